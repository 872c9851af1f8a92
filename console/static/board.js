// The board's live updates: each server-sent "ticket" event carries the changed ticket's row as this
// viewer's board shows it (html), or "gone" when it left the board; rows are replaced, inserted or removed.
(function () {
  "use strict";
  var table = document.getElementById("board");
  if (!table || !window.EventSource) { return; }
  var body = table.tBodies[0];
  var total = document.getElementById("total");
  var live = document.getElementById("live");
  var source = new EventSource(table.dataset.stream);
  function count(delta) { total.textContent = String(Math.max(0, parseInt(total.textContent, 10) + delta)); }
  function rowOf(html) { var t = document.createElement("tbody"); t.innerHTML = html.trim(); return t.firstElementChild; }
  source.onopen = function () { live.classList.add("on"); };
  source.onerror = function () { live.classList.remove("on"); };
  source.addEventListener("signedout", function () { source.close(); location.href = "/console/signin"; });
  source.addEventListener("ticket", function (event) {
    var data = JSON.parse(event.data);
    var old = document.getElementById("t-" + data.number);
    if (data.gone) { if (old) { old.remove(); count(-1); } return; }
    var row = rowOf(data.html);
    row.classList.add("fresh");
    if (old) { old.replaceWith(row); return; }
    var empty = document.getElementById("empty");
    if (empty) { empty.remove(); }
    var firstPlain = data.urgent ? body.firstElementChild : body.querySelector("tr:not(.urgent)");
    body.insertBefore(row, firstPlain);
    count(1);
  });
})();
