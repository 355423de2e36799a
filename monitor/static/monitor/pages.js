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
