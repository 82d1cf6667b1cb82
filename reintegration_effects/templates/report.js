/* Small, dependency-free behaviour: cohort menus for tables, filter menus for table rows,
   and a resize nudge so that plotly charts in hidden panels draw at the right width. */
(function () {
  document.querySelectorAll("select[data-switch]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      var box = document.getElementById(sel.getAttribute("data-switch"));
      if (!box) { return; }
      box.querySelectorAll(":scope > [data-key]").forEach(function (el) {
        el.hidden = el.getAttribute("data-key") !== sel.value;
      });
    });
  });
  document.querySelectorAll("select[data-filter]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      var table = document.getElementById(sel.getAttribute("data-filter"));
      if (!table) { return; }
      table.querySelectorAll("tbody tr[data-dim]").forEach(function (tr) {
        var dim = tr.getAttribute("data-dim");
        tr.hidden = sel.value !== "" && dim !== "all" && dim !== sel.value;
      });
    });
  });
  window.addEventListener("load", function () {
    if (window.Plotly) {
      document.querySelectorAll(".js-plotly-plot").forEach(function (el) { Plotly.Plots.resize(el); });
    }
  });
})();
