// Audit every plotly chart on the page: its traces (type, name, colour, points), its legend entries
// (name and swatch colour), its axis tick labels and x range. Returns a list, one entry per chart.
() => {
  const norm = (c) => {
    if (!c || typeof c !== "string") return null;
    const el = document.createElement("span");
    el.style.color = c;
    document.body.appendChild(el);
    const out = getComputedStyle(el).color;
    el.remove();
    return out;
  };
  const points = (t) => {
    if (t.type === "sankey") return (t.link && t.link.value ? t.link.value.length : 0);
    const ys = t.y || t.x || [];
    return Array.prototype.filter.call(ys, (v) => v !== null && v !== undefined && !Number.isNaN(v)).length;
  };
  // whether a line's values are all the same (a chart of such lines carries no information)
  const flat = (t) => {
    if (t.type !== "scatter" && t.type !== "bar") return null;
    const ys = Array.prototype.filter.call(t.y || [], (v) => typeof v === "number" && Number.isFinite(v));
    if (!ys.length) return true;
    const lo = Math.min(...ys), hi = Math.max(...ys);
    return hi - lo <= 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi));
  };
  const colourOf = (t) => {
    if (t.type === "bar") return norm(t.marker && t.marker.color);
    if (t.type === "scatter") {
      if (t.mode && t.mode.indexOf("lines") >= 0) return norm(t.line && t.line.color);
      return norm(t.marker && t.marker.color);
    }
    return null;
  };
  return Array.from(document.querySelectorAll(".js-plotly-plot")).map((gd, i) => {
    const full = gd._fullData || [];
    const legend = Array.from(gd.querySelectorAll(".legend .traces")).map((el) => {
      const d = el.__data__ && el.__data__[0];
      const trace = d && d.trace;
      const line = el.querySelector(".legendlines path");
      const bar = el.querySelector(".legendpoints path");
      const swatch = line ? line.style.stroke : bar ? bar.style.fill : null;
      return { name: trace ? trace.name : el.textContent, swatch: norm(swatch), trace: trace ? colourOf(trace) : null };
    });
    const ticks = (sel) => Array.from(gd.querySelectorAll(sel)).map((t) => t.textContent);
    const xa = gd._fullLayout && gd._fullLayout.xaxis;
    return {
      index: i,
      id: gd.dataset.chart || gd.id,
      title: (gd._fullLayout && gd._fullLayout.title && gd._fullLayout.title.text) || "",
      traces: full.map((t) => ({
        type: t.type, name: t.name, colour: colourOf(t), points: points(t), visible: t.visible, flat: flat(t),
      })),
      legend: legend,
      xticks: ticks(".xaxislayer-above .xtick text, .xaxislayer-above .x2tick text"),
      yticks: ticks(".yaxislayer-above .ytick text"),
      xrange: xa && xa.range ? xa.range.slice() : null,
      xtype: xa ? xa.type : null,
    };
  });
}
