/* The data-collection page refreshes its live part (uploads in progress) every
   few seconds without reloading the page; without scripts the page reloads
   itself (<noscript> refresh). */
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) return;
  var url = live.dataset.refreshUrl, every = (+live.dataset.refreshSeconds || 3) * 1000;
  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (r) { if (!r.ok || r.redirected) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var box = document.createElement("div"); box.innerHTML = html;
        var fresh = box.querySelector("#live");
        if (fresh) {
          live.innerHTML = fresh.innerHTML;
          if (window.jilu) window.jilu.place(live);
          live.dataset.updated = Date.now();
        }
      })
      .catch(function () {})
      .then(function () { setTimeout(tick, every); });
  }
  setTimeout(tick, every);
})();
