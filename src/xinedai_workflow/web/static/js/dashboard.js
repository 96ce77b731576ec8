// The dashboard's charts (ECharts) from the figures the server rendered into #figures; every
// chart's numbers are in the table under it (and as CSV).
(function () {
  "use strict";
  var source = document.getElementById("figures");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  function num(v) { return v === null || v === undefined || v === "" ? null : Number(v); }
  function option(name, chart) {
    var rows = chart.rows || [];
    var cols = chart.columns || [];
    var base = { animation: false, tooltip: { trigger: "item" }, grid: { left: 48, right: 16, top: 28, bottom: 40 } };
    if (chart.kind === "line") {
      return Object.assign(base, {
        tooltip: { trigger: "axis" }, legend: { top: 0 },
        xAxis: { type: "category", data: rows.map(function (r) { return r[0]; }) },
        yAxis: { type: "value", min: 0, max: 1 },
        series: cols.slice(1).map(function (c, i) { return { name: c, type: "line", data: rows.map(function (r) { return num(r[i + 1]); }) }; })
      });
    }
    if (chart.kind === "matrix") {
      var from = [], to = [];
      rows.forEach(function (r) { if (from.indexOf(r[0]) < 0) { from.push(r[0]); } if (to.indexOf(r[1]) < 0) { to.push(r[1]); } });
      return Object.assign(base, {
        xAxis: { type: "category", data: to, name: "to" }, yAxis: { type: "category", data: from, name: "from" },
        visualMap: { min: 0, max: 1, calculable: false, orient: "horizontal", left: "center", bottom: 0, show: false },
        series: [{ type: "heatmap", label: { show: true }, data: rows.map(function (r) { return [to.indexOf(r[1]), from.indexOf(r[0]), num(r[2])]; }) }]
      });
    }
    if (chart.kind === "funnel") {
      return Object.assign(base, { series: [{ type: "funnel", left: "10%", width: "80%", label: { show: true, formatter: "{b}: {c}" },
        data: rows.map(function (r) { return { name: r[0], value: num(r[1]) }; }) }] });
    }
    if (chart.kind === "stacked") {
      return Object.assign(base, {
        tooltip: { trigger: "axis" }, legend: { top: 0 },
        xAxis: { type: "category", data: rows.map(function (r) { return r[0]; }) }, yAxis: { type: "value" },
        series: cols.slice(1).map(function (c, i) { return { name: c, type: "bar", data: rows.map(function (r) { return num(r[i + 1]); }) }; })
      });
    }
    // bar and histogram: the first numeric column (rates, hours, counts)
    var series = chart.kind === "histogram" ? cols.slice(1) : [cols[1]];
    var opt = Object.assign(base, {
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      xAxis: { type: "category", data: rows.map(function (r) { return String(r[0]); }) }, yAxis: { type: "value" },
      series: series.map(function (c) { var i = cols.indexOf(c); return { name: c, type: "bar", data: rows.map(function (r) { return num(r[i]); }) }; })
    });
    if (chart.kind === "histogram" && chart.caps && chart.caps.max_contacts_per_day) {
      opt.series[0].markLine = { symbol: "none", data: [{ xAxis: String(chart.caps.max_contacts_per_day), name: "cap" }] };
    }
    return opt;
  }
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var name = el.dataset.chart;
    var chart = data.charts[name];
    var instance = window.echarts.init(el, null, { renderer: "svg" });
    instance.setOption(option(name, chart));
    el.dataset.ready = "true";
    el.dataset.points = String((chart.rows || []).length);
    charts.push(instance);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
