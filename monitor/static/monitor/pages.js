// Shows the reading of the chart element under the pointer or keyboard focus
// (its <title>: instants in the store's local time) in the chart's live readout.
(function () {
  "use strict";
  function show(event) {
    var element = event.target.closest ? event.target.closest("[tabindex]") : null;
    if (!element || !element.closest("svg.chart")) return;
    var title = element.querySelector("title");
    var figure = element.closest("figure");
    var readout = figure ? figure.querySelector(".readout") : null;
    if (title && readout) readout.textContent = title.textContent;
  }
  document.addEventListener("focusin", show);
  document.addEventListener("mouseover", show);
})();

// On a screen too narrow for the whole week chart, it opens scrolled to where
// business hours begin (data-scroll-share: that hour's place across the chart)
// rather than at 00:00.
(function () {
  "use strict";
  function scrollToBusinessHours() {
    document.querySelectorAll(".week-wrap[data-scroll-share]").forEach(function (wrap) {
      if (wrap.scrollWidth <= wrap.clientWidth) return;
      var chart = wrap.querySelector("svg");
      var share = parseFloat(wrap.getAttribute("data-scroll-share"));
      if (!chart || isNaN(share)) return;
      // A little of the hour before shows too, so the stretch reads as a start.
      wrap.scrollLeft = Math.max(0, share * chart.getBoundingClientRect().width - 24);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scrollToBusinessHours);
  } else {
    scrollToBusinessHours();
  }
})();
