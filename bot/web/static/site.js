// The reports map: the points come with the page (a JSON block), the tiles from the tile server
// the municipality chose. Markers are drawn as vectors, so they show even when no tile loads.
(function () {
  "use strict";
  var box = document.getElementById("map");
  var data = document.getElementById("map-data");
  if (!box || !data || typeof L === "undefined") {
    return;
  }
  var found = JSON.parse(data.textContent);
  var reports = found.reports.map(function (p) {
    var status = found.statuses[p[3]] || [p[3], "#666666"];
    return {
      ref: p[0], lat: p[1], lon: p[2], status: p[3], status_name: status[0], colour: status[1],
      category: found.categories[p[4]] || p[4]
    };
  });
  var map = L.map(box, { scrollWheelZoom: false });
  L.tileLayer(box.dataset.tiles, {
    maxZoom: 19,
    attribution: box.dataset.attribution
  }).addTo(map);
  var points = [];
  reports.forEach(function (r) {
    var marker = L.circleMarker([r.lat, r.lon], {
      radius: 8,
      weight: 2,
      color: "#222",
      fillColor: r.colour,
      fillOpacity: 0.9,
      className: "report-marker status-" + r.status
    });
    var text = document.createElement("div");
    var link = document.createElement("a");
    link.href = "#report-" + r.ref;
    link.textContent = r.ref;
    text.appendChild(link);
    text.appendChild(document.createTextNode(" · " + r.category + " · " + r.status_name));
    marker.bindPopup(text);
    marker.addTo(map);
    points.push([r.lat, r.lon]);
  });
  if (points.length) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 15 });
  } else {
    map.setView([Number(box.dataset.lat), Number(box.dataset.lon)], 12);
  }
  box.setAttribute("data-ready", String(points.length));
})();
