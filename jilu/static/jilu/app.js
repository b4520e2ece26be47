/* Behaviour shared by every page. The Content-Security-Policy allows scripts
   from this site's static files only, so pages carry no inline scripts or
   on*="" handlers: they mark elements with data-* attributes and this file
   acts on them. */
(function () {
  "use strict";

  /* Bars and ticks placed by the server's numbers (unit day, upload progress):
     data-left / data-width in percent, applied through the CSS object model,
     which the policy allows (a style="" attribute would be refused). */
  function place(root) {
    var items = (root || document).querySelectorAll("[data-left], [data-width]");
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      if (el.hasAttribute("data-left")) el.style.left = el.getAttribute("data-left") + "%";
      if (el.hasAttribute("data-width")) el.style.width = el.getAttribute("data-width") + "%";
    }
  }

  window.jilu = {place: place};

  /* A form submitted by a button with data-confirm asks first, once its
     fields are filled in as required (a form marked novalidate that is not
     goes to the server unasked, which says what is missing). */
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var text = button && button.getAttribute("data-confirm");
    if (!text || !event.target.checkValidity()) return;
    if (!window.confirm(text)) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-print]") : null;
    if (target) { event.preventDefault(); window.print(); }
  });

  /* Controls that act as soon as they change (the footer's language picker). */
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-submit-on-change") && el.form) el.form.submit();
  });

  function ready() {
    place(document);
    /* On a phone, folding panels close so the content comes first. */
    if (window.matchMedia && window.matchMedia("(max-width: 640px)").matches) {
      var panels = document.querySelectorAll("details[data-fold-on-phone]");
      for (var i = 0; i < panels.length; i++) {
        if (!panels[i].hasAttribute("data-keep-open")) panels[i].open = false;
      }
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
