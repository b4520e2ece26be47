/* A case's package page while a package is being built: poll each build's
   progress and reload the page when one finishes. */
(function () {
  "use strict";
  var bars = document.querySelectorAll("progress[data-progress-url]");
  if (!bars.length) return;
  function poll() {
    var pending = bars.length;
    bars.forEach(function (bar) {
      fetch(bar.dataset.progressUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (p) {
        var cell = bar.closest("td");
        bar.value = p.percent;
        cell.querySelector(".pct").textContent = p.percent + "%";
        cell.querySelector(".msg").textContent = p.message;
        if (p.finished) { window.location.reload(); }
      }).finally(function () { if (--pending === 0) { setTimeout(poll, 1000); } });
    });
  }
  setTimeout(poll, 1000);
})();
