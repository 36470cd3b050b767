// The live feed: rows of the audit log about requests, as server-sent events, added at the top
// of the table. Text only (textContent): nothing from the feed is ever parsed as HTML.
const status = document.getElementById("live-status");
const body = document.querySelector("#live tbody");
const COLUMNS = ["seq", "at", "kind", "user", "app", "risk", "rule", "outcome", "detail"];
const KEPT = 500;

function addRow(row) {
  if (body.querySelector(`tr[data-seq="${Number(row.seq)}"]`)) return;
  const tr = document.createElement("tr");
  tr.dataset.seq = String(row.seq);
  tr.className = `kind-${row.kind} fresh`;
  for (const column of COLUMNS) {
    const td = document.createElement("td");
    td.textContent = row[column] ?? "";
    if (column === "outcome") td.className = "outcome";
    tr.appendChild(td);
  }
  body.insertBefore(tr, body.firstChild);
  while (body.rows.length > KEPT) body.deleteRow(body.rows.length - 1);
}

let after = Number(status.dataset.after || 0);
const source = new EventSource(`/admin/live/events?after=${after}`);
source.addEventListener("row", (event) => {
  const row = JSON.parse(event.data);
  after = Math.max(after, Number(row.seq));
  addRow(row);
});
source.addEventListener("open", () => {
  status.textContent = "Connected: requests appear here as they are made, on any node.";
  status.dataset.connected = "true";
});
source.addEventListener("error", () => {
  status.textContent = "Reconnecting…";
  status.dataset.connected = "false";
});
