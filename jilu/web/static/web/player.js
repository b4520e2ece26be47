/* The recording page's player.
   In the production configuration a play is authorised once and answered with
   a short-lived link that the front server (or the object store) checks
   itself. When that link expires mid-viewing, the next seek fails: ask the
   play address again (checked and audited anew) and carry on from the same
   moment. When the play address
   itself refuses (the file is missing from the store, 410; refused, 403) or
   the file cannot be decoded, say so under the player instead of staying blank.
   The play address and the messages come from the player's data-* attributes. */
(function () {
  "use strict";
  var media = document.getElementById("video") || document.getElementById("audio");
  var box = document.getElementById("play-problem");
  if (!media || !box) return;
  var playUrl = media.getAttribute("data-play-url");
  var texts = {
    decode: box.getAttribute("data-text-decode"),
    failed: box.getAttribute("data-text-failed"),
    network: box.getAttribute("data-text-network")
  };
  var retries = 0, lastRetry = 0;
  function show(text) { box.textContent = text; box.hidden = false; }
  function renew() {
    var now = Date.now();
    if (now - lastRetry > 60000) retries = 0;
    if (retries >= 3) { show(texts.failed); return; }
    retries += 1; lastRetry = now;
    var at = media.currentTime, playing = !media.paused;
    media.src = playUrl + "?renew=" + now;
    media.addEventListener("loadedmetadata", function resume() {
      media.removeEventListener("loadedmetadata", resume);
      box.hidden = true;
      if (at) media.currentTime = at;
      if (playing) media.play().catch(function () {});
    });
    media.load();
  }
  media.addEventListener("error", function () {
    if (media.error && media.error.code === 3) { show(texts.decode); return; }
    // Ask the play address what is wrong (one byte, as a player would). A
    // redirect (a fresh signed link, or a presigned store address on another
    // origin) means the play is allowed again: not followed here, the player
    // asks for it itself.
    fetch(playUrl + "?check=" + Date.now(), {headers: {Range: "bytes=0-0"}, credentials: "same-origin", redirect: "manual"})
      .then(function (r) {
        if (r.type === "opaqueredirect" || r.status === 206 || r.status === 200) { renew(); return; }
        return r.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var said = doc.querySelector("[role=alert]");
          show(said && said.textContent.trim() ? said.textContent.trim() : texts.failed + " (HTTP " + r.status + ")");
        });
      })
      .catch(function () { show(texts.network); });
  });
})();
