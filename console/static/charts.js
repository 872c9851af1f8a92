// Bar charts drawn in the page, no library: each element with data-chart holds JSON
// {unit, max?, rows: [{label, value, note}]} written by the server; it becomes an SVG of
// horizontal bars, one per row, sized to the element's width and drawn again when that changes.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var ROW = 28, BAR = 16, FONT = 13;
  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  // Width of a text at `size` px: Chinese characters are square, Latin digits and letters about 0.6.
  function textWidth(text, size) {
    var w = 0;
    for (var i = 0; i < text.length; i++) { w += text.charCodeAt(i) > 255 ? size : size * 0.6; }
    return w;
  }
  function short(label, room) {
    if (textWidth(label, FONT) <= room) { return label; }
    while (label.length > 1 && textWidth(label + "…", FONT) > room) { label = label.slice(0, -1); }
    return label + "…";
  }
  function figureOf(data, row) {
    return data.unit === "%" ? row.note : row.value + " " + data.unit + (row.note ? " · " + row.note : "");
  }
  function draw(box) {
    var data = JSON.parse(box.dataset.chart);
    var width = Math.max(280, box.clientWidth);
    box.textContent = "";
    if (!data.rows.length) {
      box.appendChild(el("svg", { width: width, height: ROW, role: "img" })).appendChild(
        el("text", { x: 0, y: FONT + 4, "font-size": FONT, fill: "#6b7785" }, "暂无数据"));
      return;
    }
    var widest = function (texts, size) { return Math.max.apply(null, texts.map(function (t) { return textWidth(t, size); })); };
    var labelWidth = Math.min(widest(data.rows.map(function (r) { return r.label; }), FONT), width * 0.3) + 8;
    var noteWidth = Math.min(widest(data.rows.map(function (r) { return figureOf(data, r); }), FONT - 1), width * 0.42) + 16;
    var span = Math.max(40, width - labelWidth - noteWidth);
    var most = data.max || Math.max.apply(null, data.rows.map(function (r) { return r.value; })) || 1;
    var svg = el("svg", { width: width, height: data.rows.length * ROW + 4, role: "img",
                          "aria-label": box.getAttribute("aria-label") || "" });
    data.rows.forEach(function (row, i) {
      var y = i * ROW + 4;
      var bar = Math.max(row.value > 0 ? 2 : 0, span * row.value / most);
      var label = el("text", { x: labelWidth - 8, y: y + BAR - 3, "text-anchor": "end", "font-size": FONT, fill: "#1f2933" },
                     short(row.label, labelWidth - 8));
      label.appendChild(el("title", {}, row.label));
      svg.appendChild(label);
      svg.appendChild(el("rect", { x: labelWidth, y: y, width: span, height: BAR, fill: "#f0f2f5", rx: 3 }));
      svg.appendChild(el("rect", { x: labelWidth, y: y, width: bar, height: BAR, fill: "#c62828", rx: 3, "class": "bar" }));
      svg.appendChild(el("text", { x: labelWidth + span + 6, y: y + BAR - 3, "font-size": FONT - 1, fill: "#444" },
                         figureOf(data, row)));
    });
    box.appendChild(svg);
  }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
  boxes.forEach(draw);
  var last = window.innerWidth;
  window.addEventListener("resize", function () {
    if (window.innerWidth === last) { return; }
    last = window.innerWidth;
    boxes.forEach(draw);
  });
})();
