// Draws the sales dashboard from the figures embedded in the page and redraws it when the server
// says over the WebSocket that sales arrived. Chart.js is vendored (static/reporting/vendor).
(function () {
  "use strict";
  const charts = {};

  function money(s) { return Number(s); }  // display only: figures arrive as decimal strings

  function draw(id, type, labels, datasets, options) {
    const el = document.getElementById(id);
    if (!el || typeof Chart === "undefined") return;
    if (charts[id]) {
      charts[id].data.labels = labels;
      charts[id].data.datasets = datasets;
      charts[id].update("none");
      return;
    }
    charts[id] = new Chart(el, { type, data: { labels, datasets }, options: Object.assign({ animation: false }, options || {}) });
  }

  function render(f) {
    draw("chart-days", "line", f.days.map(d => d.day), [{ label: "total", data: f.days.map(d => money(d.total)) }]);
    draw("chart-stores", "bar", f.stores.map(s => s.code + (s.provisional ? " *" : "")), [{ label: "total", data: f.stores.map(s => money(s.total)) }]);
    draw("chart-tenders", "doughnut", f.tenders.map(t => t.kind), [{ data: f.tenders.map(t => money(t.amount)) }]);
    draw("chart-channels", "doughnut", ["store", "online"], [{ data: [money(f.channels.store), money(f.channels.online)] }]);
    draw("chart-baskets", "line", f.days.map(d => d.day), [
      { label: "lines per sale", data: f.days.map(d => Number(d.basket_size)), yAxisID: "y" },
      { label: "member share", data: f.days.map(d => Number(d.member_share)), yAxisID: "y1" },
    ], { scales: { y1: { position: "right", min: 0, max: 1 } } });
    draw("chart-top", "bar", f.top_products.map(p => p.name), [{ label: "total", data: f.top_products.map(p => money(p.total)) }], { indexAxis: "y" });
    for (const [key, value] of Object.entries(f.totals)) {
      const el = document.querySelector(`[data-kpi="${key}"]`);
      if (el) el.textContent = value;
    }
  }

  async function refresh() {
    const response = await fetch("data.json" + window.location.search, { credentials: "same-origin" });
    if (response.ok) render(await response.json());
  }

  function connect() {
    const live = document.getElementById("dash-live");
    const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/reporting/live");
    let pending = null;
    socket.onopen = () => { live.textContent = "● live"; };
    socket.onmessage = () => {  // coalesce bursts of sales into one refresh a second
      if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 1000);
    };
    socket.onclose = () => { live.textContent = "○ reconnecting"; setTimeout(connect, 5000); };
  }

  document.addEventListener("DOMContentLoaded", () => {
    render(JSON.parse(document.getElementById("dash-figures").textContent));
    connect();
  });
})();
