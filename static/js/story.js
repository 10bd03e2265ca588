// The story as pictures, in the play page's drawer: the relationship graph (d3), the
// relationship timeline (uPlot), the story strip and the branch tree (d3). The graph's data
// comes with the drawer (a JSON script block); the others from the JSON API, fetched again
// only when the drawer says the log has grown. Names, summaries and labels are model or card
// text: they only ever go in as text nodes (d3's .text(), textContent, <title>), never HTML.
(function () {
  "use strict";

  var NS = "http://www.w3.org/2000/svg";
  var cache = {}; // url -> {lastEvent, data}

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function lastEvent() {
    // the pictures follow the log and the branch shown: a switch appends no event
    var inner = document.querySelector("#drawer .drawer-inner");
    return inner ? inner.dataset.lastEvent + "@" + inner.dataset.branch : "";
  }

  function empty(el, text) {
    el.replaceChildren();
    var p = document.createElement("p");
    p.className = "picture-empty";
    p.textContent = text;
    el.appendChild(p);
  }

  // Render from what we have at once, then fetch again if the log has grown since.
  function withData(el, draw) {
    var url = el.dataset.url;
    var seen = lastEvent();
    var cached = cache[url];
    if (cached) draw(el, cached.data);
    if (cached && cached.lastEvent === seen) return;
    fetch(url, {headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        cache[url] = {lastEvent: seen, data: data};
        if (document.body.contains(el)) draw(el, data);
      })
      .catch(function (err) {
        if (!cached && document.body.contains(el)) empty(el, "Could not load this picture (" + err.message + ").");
      });
  }

  // Story time "2024-10-12T21:10" as "Sat 12, 21:10"; anything else as it is.
  function shortTime(value, withDay) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
    if (!m) return value || "";
    var d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    var day = d.toLocaleDateString("en-GB", {weekday: "short", day: "numeric"});
    return withDay === false ? m[4] + ":" + m[5] : day + ", " + m[4] + ":" + m[5];
  }

  // -- tooltip (shared by the graph and the tree) -----------------------------------------------
  function tip() { return document.querySelector("#drawer .graph-tip"); }

  function showTip(lines, x, y) {
    var t = tip();
    if (!t) return;
    t.replaceChildren();
    lines.forEach(function (line, i) {
      if (!line) return;
      var el = document.createElement(i === 0 ? "b" : "p");
      el.textContent = line;
      t.appendChild(el);
    });
    t.hidden = false;
    var w = t.offsetWidth, h = t.offsetHeight;
    t.style.left = Math.max(8, Math.min(window.innerWidth - w - 8, x + 12)) + "px";
    t.style.top = Math.max(8, Math.min(window.innerHeight - h - 8, y + 12)) + "px";
  }

  function hideTip() {
    var t = tip();
    if (t) t.hidden = true;
  }

  // -- the relationship graph ------------------------------------------------------------------
  var SEATS3 = {host: [0.5, 0.17], you: [0.17, 0.8], guest: [0.83, 0.8]};
  var SEATS2 = {you: [0.17, 0.5], host: [0.83, 0.5], guest: [0.5, 0.9]};

  function truncate(text, n) { return text.length > n ? text.slice(0, Math.max(1, n - 1)) + "…" : text; }

  function signed(n) { return (n > 0 ? "+" : "") + n; }

  function edgeLines(e) {
    var change = [];
    if (e.change.affinity) change.push((e.change.affinity > 0 ? "▲" : "▼") + Math.abs(e.change.affinity) + " affinity");
    if (e.change.trust) change.push((e.change.trust > 0 ? "▲" : "▼") + Math.abs(e.change.trust) + " trust");
    return [
      e.source_name + " → " + e.target_name + (e.present ? "" : " (away)"),
      "affinity " + signed(e.affinity) + " · trust " + signed(e.trust) +
        (change.length ? " · this turn " + change.join(", ") : ""),
      e.summary,
      e.knowledge.length ? "knows: " + e.knowledge.join("; ") : "",
      e.last_interaction ? "last: " + e.last_interaction : "",
    ];
  }

  function drawGraph(el) {
    var script = document.getElementById("graph-data");
    if (!script || !window.d3) return;
    var data = JSON.parse(script.textContent);
    var d3 = window.d3;
    var width = el.clientWidth || 360;
    var height = Math.round(width * 0.8);
    el.replaceChildren();
    if (!data.nodes.length) { empty(el, "No one here yet."); return; }
    // the characters in the seats make the triangle; those who left a seat to another (an
    // earlier guest, away with their edges) wait in a row below it
    var seated = data.nodes.filter(function (n) { return n.role; });
    var others = data.nodes.filter(function (n) { return !n.role; });
    var three = seated.length === 3;
    var seats = three ? SEATS3 : SEATS2;
    var r = Math.max(20, Math.min(30, width / 13));
    var top = height;
    if (others.length) height += 2 * r + 44;
    var pos = {}, at = {};
    seated.forEach(function (n) {
      var s = seats[n.role] || [0.5, 0.5];
      pos[n.id] = at[n.role] = [s[0] * width, s[1] * top];
    });
    // off the middle, where the arrows from the top seat would cross the trio's label
    var span = others.length >= 3 ? [0.1, 0.9] : [0.25, 0.75];
    others.forEach(function (n, i) {
      var x = others.length === 1 ? span[0] : span[0] + (span[1] - span[0]) * i / (others.length - 1);
      pos[n.id] = [x * width, height - r - 26];
    });
    var colour = d3.scaleLinear().domain([-35, 0, 35])
      .range([css("--cold"), css("--neutral"), css("--warm")]).interpolate(d3.interpolateRgb).clamp(true);
    var thickness = d3.scaleLinear().domain([-100, 0, 100]).range([1.5, 3, 9]).clamp(true);

    var svg = d3.select(el).append("svg")
      .attr("viewBox", "0 0 " + width + " " + height)
      .attr("role", "group")
      .attr("aria-label", "Relationship graph");

    if (data.group && three) {
      var cx = (at.you[0] + at.host[0] + at.guest[0]) / 3;
      var cy = (at.you[1] + at.host[1] + at.guest[1]) / 3 + 4;
      var g = svg.append("g").attr("class", "group" + (data.group.present ? "" : " away"))
        .attr("data-group", "").attr("tabindex", 0).attr("role", "button")
        .attr("aria-label", "The three together: " + (data.group.summary || "no summary yet"));
      g.append("rect").attr("class", "group-node").attr("x", cx - 34).attr("y", cy - 11)
        .attr("width", 68).attr("height", 22).attr("rx", 11);
      g.append("text").attr("class", "group-label").attr("x", cx).attr("y", cy + 3.5)
        .attr("text-anchor", "middle").text("together");
      var groupLines = ["The three together", data.group.summary, data.group.dynamic];
      g.on("mouseenter focus", function (ev) {
        var b = this.getBoundingClientRect();
        showTip(groupLines, ev.clientX || b.right, ev.clientY || b.bottom);
      }).on("mouseleave blur", hideTip);
    }

    var edges = svg.append("g").attr("class", "edges");
    data.edges.forEach(function (e) {
      var a = pos[e.source], b = pos[e.target];
      if (!a || !b) return;
      var dx = b[0] - a[0], dy = b[1] - a[1];
      var len = Math.hypot(dx, dy) || 1;
      var ux = dx / len, uy = dy / len;
      // each direction runs on its own side of the line between the two: A→B and B→A are
      // two arrows, never one line
      var bend = Math.min(26, len * 0.09);
      var nx = -uy, ny = ux;
      var start = [a[0] + ux * (r + 6) + nx * 9, a[1] + uy * (r + 6) + ny * 9];
      var end = [b[0] - ux * (r + 12) + nx * 9, b[1] - uy * (r + 12) + ny * 9];
      var ctrl = [(a[0] + b[0]) / 2 + nx * (9 + bend), (a[1] + b[1]) / 2 + ny * (9 + bend)];
      var d = "M" + start + " Q" + ctrl + " " + end;
      var stroke = colour(e.affinity);
      var width_ = thickness(e.trust);
      var group = edges.append("g")
        .attr("class", "edge" + (e.present ? "" : " away"))
        .attr("data-edge", e.id)
        // ends by seat while they hold one (host, guest), else by character key (c12)
        .attr("data-source", e.source_role || e.source).attr("data-target", e.target_role || e.target)
        .attr("data-source-key", e.source).attr("data-target-key", e.target)
        .attr("data-source-name", e.source_name).attr("data-target-name", e.target_name)
        .attr("data-affinity", e.affinity).attr("data-trust", e.trust)
        .attr("tabindex", 0).attr("role", "button");
      group.append("path").attr("class", "edge-hit").attr("d", d);
      group.append("path").attr("class", "edge-path").attr("d", d)
        .attr("stroke", stroke).attr("stroke-width", width_)
        .attr("stroke-dasharray", e.trust < 0 ? "6 4" : null);
      // the arrowhead, along the curve's tangent at its end
      var tx = end[0] - ctrl[0], ty = end[1] - ctrl[1];
      var tl = Math.hypot(tx, ty) || 1;
      tx /= tl; ty /= tl;
      var size = 7 + width_;
      var tipPt = [end[0] + tx * 6, end[1] + ty * 6];
      var left = [tipPt[0] - tx * size - ty * size * 0.6, tipPt[1] - ty * size + tx * size * 0.6];
      var right = [tipPt[0] - tx * size + ty * size * 0.6, tipPt[1] - ty * size - tx * size * 0.6];
      group.append("path").attr("class", "edge-head")
        .attr("d", "M" + tipPt + " L" + left + " L" + right + " Z").attr("fill", stroke);
      // the value at the middle of the curve, with this turn's change
      var mid = [0.25 * start[0] + 0.5 * ctrl[0] + 0.25 * end[0], 0.25 * start[1] + 0.5 * ctrl[1] + 0.25 * end[1]];
      var label = group.append("text").attr("class", "edge-value")
        .attr("x", mid[0] + nx * 13).attr("y", mid[1] + ny * 13 + 4).attr("text-anchor", "middle");
      label.append("tspan").text("♥" + e.affinity);
      if (e.change.affinity) {
        label.append("tspan").attr("class", "edge-change " + (e.change.affinity > 0 ? "up" : "down"))
          .text(" " + (e.change.affinity > 0 ? "▲" : "▼") + Math.abs(e.change.affinity));
      } else if (e.change.trust) {
        label.append("tspan").attr("class", "edge-change " + (e.change.trust > 0 ? "up" : "down"))
          .text(" " + (e.change.trust > 0 ? "▲" : "▼"));
      }
      var lines = edgeLines(e);
      // the accessible name starts with what the arrow shows (its value and change)
      group.attr("aria-label", label.text() + " — " + lines.slice(0, 2).join(": "));
      group.on("mouseenter", function (ev) { showTip(lines, ev.clientX, ev.clientY); })
        .on("mousemove", function (ev) { showTip(lines, ev.clientX, ev.clientY); })
        .on("mouseleave blur", hideTip)
        .on("focus click", function (ev) {
          var box = this.getBoundingClientRect();
          showTip(lines, ev.clientX || box.left + box.width / 2, ev.clientY || box.top + box.height / 2);
        });
    });

    var nodes = svg.append("g").attr("class", "nodes");
    data.nodes.forEach(function (n) {
      var p = pos[n.id];
      var g = nodes.append("g").attr("class", "node" + (n.present ? "" : " away"))
        .attr("data-node", n.role || n.id).attr("data-character", n.id)
        .attr("transform", "translate(" + p + ")");
      var clipId = "clip-" + n.id;
      g.append("clipPath").attr("id", clipId).append("circle").attr("r", r);
      g.append("circle").attr("r", r + 3).attr("class", "node-ring");
      g.append("circle").attr("r", r).attr("fill", css("--av-" + (n.role || "guest")) || css("--accent"));
      if (n.avatar) {
        g.append("image").attr("href", n.avatar).attr("x", -r).attr("y", -r)
          .attr("width", 2 * r).attr("height", 2 * r).attr("clip-path", "url(#" + clipId + ")")
          .attr("preserveAspectRatio", "xMidYMid slice");
      } else {
        g.append("text").attr("class", "node-initials").attr("text-anchor", "middle")
          .attr("y", 4.5).text(n.initials);
      }
      var below = p[1] < height / 2 ? -(r + 9) : r + 17;
      g.append("text").attr("class", "node-label").attr("text-anchor", "middle")
        .attr("y", below).text(n.name + (n.present ? "" : " (away)"));
      g.append("title").text(n.name + (n.mood ? " — feels " + n.mood : "") + (n.present ? "" : " (away)"));
    });
  }

  // -- the relationship timeline ---------------------------------------------------------------
  // one colour per direction, the same in every chart (Tableau 10, readable in both themes)
  var LINE_ORDER = ["host-you", "you-host", "guest-you", "you-guest", "host-guest", "guest-host"];
  var MARK_GLYPHS = {scene: "§", skip: "»", story_event: "◆", edit: "✎"};

  function drawTimeline(el, data) {
    if (!window.uPlot) return;
    var metric = (document.querySelector("input[name=timeline-metric]:checked") || {}).value || "affinity";
    el.replaceChildren();
    el.dataset.series = String(data.edges.length);
    el.dataset.marks = String(data.marks.length);
    if (!data.edges.length) { empty(el, "Nothing to chart yet."); return; }
    var seqs = {};
    var timeAt = {};
    data.edges.forEach(function (e) {
      e.points.forEach(function (p) { seqs[p.seq] = true; timeAt[p.seq] = p.story_time; });
    });
    data.marks.forEach(function (m) { seqs[m.seq] = true; timeAt[m.seq] = m.story_time; });
    var xs = Object.keys(seqs).map(Number).sort(function (a, b) { return a - b; });
    // a relationship holds its value until the next change: carry each line forward
    var columns = data.edges.map(function (e) {
      var out = [], i = 0, value = null;
      xs.forEach(function (x) {
        while (i < e.points.length && e.points[i].seq <= x) { value = e.points[i][metric]; i++; }
        out.push(value);
      });
      return out;
    });
    var lastTime = "";
    var labels = xs.map(function (x) { if (timeAt[x]) lastTime = timeAt[x]; return lastTime; });
    var ink = css("--muted"), grid = css("--line");
    var series = [{label: "story time", value: function (u, v) { return v == null ? "" : shortTime(labels[xs.indexOf(v)]); }}];
    data.edges.forEach(function (e) {
      var key = e.source_role + "-" + e.target_role;
      var slot = LINE_ORDER.indexOf(key);
      series.push({
        label: e.source + " → " + e.target,
        stroke: window.d3.schemeTableau10[slot < 0 ? 6 + (series.length % 4) : slot],
        width: 2,
        paths: window.uPlot.paths.stepped({align: 1}),
        points: {show: false},
      });
    });
    var width = el.clientWidth || 360;
    var opts = {
      width: width,
      height: 180,
      padding: [10, 36, 0, 2],
      series: series,
      legend: {live: false},
      cursor: {drag: {x: false, y: false}},
      scales: {
        x: {time: false},
        y: {range: function (u, min, max) {
          return [Math.min(-10, (min || 0) - 5), Math.max(10, (max || 0) + 5)];
        }},
      },
      axes: [
        {
          stroke: ink, grid: {stroke: grid, width: 1}, ticks: {stroke: grid},
          values: function (u, splits) {
            var previousDay = "", previousTime = null;
            return splits.map(function (s) {
              var t = labels[d3bisect(xs, s)] || "";
              if (t === previousTime) return ""; // the clock did not move: no second label
              previousTime = t;
              var day = shortTime(t).split(",")[0];
              var text = day === previousDay ? shortTime(t, false) : shortTime(t);
              previousDay = day;
              return text;
            });
          },
          size: 30,
        },
        {stroke: ink, grid: {stroke: grid, width: 1}, ticks: {stroke: grid}, size: 36},
      ],
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx, px = devicePixelRatio;
          ctx.save();
          ctx.strokeStyle = ink;
          ctx.fillStyle = ink;
          ctx.font = (11 * px) + "px " + css("--font-ui");
          ctx.textAlign = "center";
          data.marks.forEach(function (m) {
            var x = Math.round(u.valToPos(m.seq, "x", true));
            ctx.lineWidth = (m.kind === "skip" ? 2 : 1) * px;
            ctx.setLineDash(m.kind === "scene" ? [4 * px, 3 * px] : m.kind === "story_event" ? [1 * px, 3 * px] : []);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top + 12 * px);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(MARK_GLYPHS[m.kind] || "|", x, u.bbox.top + 9 * px);
          });
          ctx.restore();
        }],
      },
    };
    var columnsWithX = [xs].concat(columns);
    new window.uPlot(opts, columnsWithX, el);
    var marks = document.createElement("p");
    marks.className = "legend";
    marks.textContent = "§ scene break · » time skip · ◆ story event · ✎ hand edit · each line keeps its value until it changes";
    marks.title = data.marks.map(function (m) { return shortTime(m.story_time) + ": " + m.label; }).join("\n");
    el.appendChild(marks);
  }

  function d3bisect(xs, value) {
    var lo = 0, hi = xs.length - 1;
    if (value <= xs[0]) return 0;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (xs[mid] <= value) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  // -- the story strip ---------------------------------------------------------------------
  function rows(items, startOf, endOf) {
    // interval partitioning: each item on the first row where it does not overlap
    var ends = [];
    items.forEach(function (item) {
      var s = startOf(item), e = endOf(item);
      var row = ends.findIndex(function (end) { return end < s; });
      if (row < 0) { row = ends.length; ends.push(e); } else { ends[row] = e; }
      item._row = row;
    });
    return Math.max(1, ends.length);
  }

  function drawStrip(el, data) {
    if (!window.d3) return;
    var d3 = window.d3;
    el.replaceChildren();
    var last = Math.max(1, data.last_seq);
    var width = el.clientWidth || 360;
    var labelW = 52, pad = 6, laneH = 14, gap = 6;
    var x = d3.scaleLinear().domain([1, last]).range([labelW, width - pad]);
    var startSeq = function (item) { return item.start ? item.start.seq : last; };
    var endSeq = function (item) { return item.end ? item.end.seq : last; };
    var events = data.story_events.filter(function (e) { return e.start; });
    var threads = data.threads.filter(function (t) { return t.start; });
    var eventRows = rows(events, startSeq, endSeq);
    var threadRows = rows(threads, startSeq, endSeq);
    var lanes = [
      {name: "scenes", rows: 1},
      {name: "events", rows: eventRows},
      {name: "threads", rows: threadRows},
    ];
    var y = 4, top = {};
    lanes.forEach(function (l) { top[l.name] = y; y += l.rows * (laneH + 2) + gap; });
    var height = y + 22;
    var svg = d3.select(el).append("svg").attr("viewBox", "0 0 " + width + " " + height)
      .attr("height", height).attr("role", "img")
      .attr("aria-label", "Story strip: " + data.scenes.length + " scenes, " + data.skips.length +
        " time skips, " + data.story_events.length + " story events, " + data.threads.length + " threads");
    el.dataset.scenes = String(data.scenes.length);
    el.dataset.items = String(data.scenes.length + data.skips.length + events.length + threads.length);
    lanes.forEach(function (l) {
      svg.append("text").attr("class", "lane-label").attr("x", 0).attr("y", top[l.name] + 10).text(l.name);
    });
    data.scenes.forEach(function (s) {
      var x0 = x(startSeq(s)), x1 = x(endSeq(s));
      var g = svg.append("g");
      g.append("rect").attr("class", "scene" + (s.meanwhile ? " meanwhile" : ""))
        .attr("x", x0).attr("y", top.scenes).attr("width", Math.max(3, x1 - x0 - 1))
        .attr("height", laneH).attr("rx", 3);
      if (x1 - x0 > 16) {
        g.append("text").attr("x", x0 + 4).attr("y", top.scenes + 10.5)
          .text(s.label.replace("Scene ", ""));
      }
      g.append("title").text(s.label + (s.detail ? " · " + s.detail : "") +
        (s.start && s.start.story_time ? " · from " + shortTime(s.start.story_time) : "") +
        (s.end && s.end.story_time ? " to " + shortTime(s.end.story_time) : s.end ? "" : " (now)"));
    });
    data.skips.forEach(function (k) {
      var g = svg.append("g");
      g.append("line").attr("class", "skip").attr("x1", x(k.seq)).attr("x2", x(k.seq))
        .attr("y1", top.scenes - 3).attr("y2", top.threads + threadRows * (laneH + 2));
      g.append("title").text("Time skip" + (k.from ? " from " + shortTime(k.from) : "") +
        (k.to ? " to " + shortTime(k.to) : ""));
    });
    function bars(items, lane, cls) {
      items.forEach(function (item) {
        var x0 = x(startSeq(item)), x1 = x(endSeq(item));
        var yy = top[lane] + item._row * (laneH + 2);
        var g = svg.append("g");
        if (cls === "ev" && item.status === "planned") {
          g.append("circle").attr("class", "ev planned").attr("cx", x0).attr("cy", yy + laneH / 2).attr("r", 5);
          x1 = x0 + 6;
        } else {
          g.append("rect").attr("class", cls + " " + item.status).attr("x", x0).attr("y", yy + 1)
            .attr("width", Math.max(4, x1 - x0)).attr("height", laneH - 2).attr("rx", 4);
        }
        // the title beside or inside its bar, where there is room
        var room = width - pad - x0 - 8;
        if (room > 30) {
          var inside = x1 - x0 > 60 && cls !== "ev-planned";
          g.append("text").attr("class", "bar-label" + (inside ? " inside" : ""))
            .attr("x", inside ? x0 + 5 : x1 + 4).attr("y", yy + 10.5)
            .text(truncate(item.label, Math.floor((inside ? x1 - x0 - 8 : room) / 5.6)));
        }
        g.append("title").text(item.label + " (" + item.status + ")" + (item.detail ? " · " + item.detail : ""));
      });
    }
    bars(events, "events", "ev");
    bars(threads, "threads", "th");
    // story time along the bottom: where it starts, where each skip lands, and now
    var axis = svg.append("g").attr("class", "axis");
    axis.append("line").attr("x1", labelW).attr("x2", width - pad).attr("y1", y).attr("y2", y);
    var ticks = [];
    var first = data.scenes[0];
    if (first && first.start && first.start.story_time) ticks.push([first.start.seq, first.start.story_time]);
    data.skips.forEach(function (k) { if (k.to) ticks.push([k.seq, k.to]); });
    if (data.now) ticks.push([last, data.now]);
    var lastX = -100, lastText = "";
    ticks.forEach(function (t) {
      var xx = x(t[0]), text = shortTime(t[1]);
      if (xx - lastX < 74 || text === lastText) return;
      lastX = xx;
      lastText = text;
      axis.append("line").attr("x1", xx).attr("x2", xx).attr("y1", y).attr("y2", y + 4);
      axis.append("text").attr("x", xx).attr("y", y + 15)
        .attr("text-anchor", xx > width - 70 ? "end" : "start").text(text);
    });
  }

  // -- the branch tree ---------------------------------------------------------------------
  var KIND_WORDS = {main: "start", swipe: "swipe", rewind: "rewind", branch: "fork",
    "delete": "delete", restore: "restore", "import": "import"};


  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }

  function activate(el, node) {
    if (node.active) return;
    fetch(el.dataset.activate + node.id + "/activate/", {
      method: "POST", headers: {"X-CSRFToken": csrf(), "HX-Request": "true"},
    }).then(function (r) {
      if (r.ok) return;
      return r.text().then(function (html) {
        var notices = document.getElementById("notices");
        if (!notices) return;
        var p = document.createElement("p");
        p.className = "notice error";
        p.textContent = new DOMParser().parseFromString(html, "text/html").body.textContent.trim() ||
          "Could not switch branch (HTTP " + r.status + ").";
        notices.appendChild(p);
      });
    });
  }

  function drawTree(el, data) {
    if (!window.d3) return;
    var d3 = window.d3;
    el.replaceChildren();
    el.dataset.nodes = String(data.nodes.length);
    if (!data.nodes.length) { empty(el, "No branches yet."); return; }
    var byId = {};
    data.nodes.forEach(function (n) { byId[n.id] = n; });
    // a branch whose parent is missing hangs from the root
    var rootId = data.nodes[0].id;
    var rowsData = data.nodes.map(function (n) {
      return Object.assign({}, n, {parentId: n.parent && byId[n.parent] ? n.parent : (n.id === rootId ? null : rootId)});
    });
    var root = d3.stratify().id(function (d) { return d.id; }).parentId(function (d) { return d.parentId; })(rowsData);
    root.sort(function (a, b) { return (a.data.fork_seq || 0) - (b.data.fork_seq || 0) || a.data.id - b.data.id; });
    var boxW = 176, boxH = 40, colW = boxW + 26, rowH = boxH + 12;
    d3.tree().nodeSize([rowH, colW])(root);
    var minX = d3.min(root.descendants(), function (d) { return d.x; });
    var maxX = d3.max(root.descendants(), function (d) { return d.x; });
    var maxY = d3.max(root.descendants(), function (d) { return d.y; });
    var width = maxY + boxW + 4, height = maxX - minX + boxH + 4;
    var svg = d3.select(el).append("svg").attr("width", width).attr("height", height)
      .attr("viewBox", [0, minX - boxH / 2 - 2, width, height].join(" "))
      .attr("role", "group").attr("aria-label", "Branch tree");
    svg.append("g").selectAll("path").data(root.links()).join("path")
      .attr("class", function (l) { return "link" + (l.source.data.on_active_path && l.target.data.on_active_path ? " on-path" : ""); })
      .attr("d", d3.linkHorizontal().source(function (l) { return [l.source.y + boxW, l.source.x]; })
        .target(function (l) { return [l.target.y, l.target.x]; }));
    var nodes = svg.append("g").selectAll("g").data(root.descendants()).join("g")
      .attr("class", function (d) { return "bnode" + (d.data.on_active_path ? " on-path" : "") + (d.data.active ? " active" : ""); })
      .attr("data-branch", function (d) { return d.data.id; })
      .attr("data-kind", function (d) { return d.data.kind; })
      .attr("transform", function (d) { return "translate(" + d.y + "," + (d.x - boxH / 2) + ")"; })
      .attr("tabindex", 0).attr("role", "button")
      .attr("aria-current", function (d) { return d.data.active ? "true" : null; })
      .attr("aria-label", function (d) {
        var n = d.data;
        return (n.active ? "Shown: " : "Switch to: ") + (KIND_WORDS[n.kind] || n.kind) +
          (n.parent ? " at line " + (n.fork_line + 1) : "") + (n.story_time ? ", " + shortTime(n.story_time) : "") + ", “" + (n.first_words || "no words yet") + "”";
      });
    nodes.append("rect").attr("width", boxW).attr("height", boxH).attr("rx", 7);
    nodes.append("text").attr("class", "kind").attr("x", 8).attr("y", 13)
      .text(function (d) {
        var n = d.data;
        return (KIND_WORDS[n.kind] || n.kind) + (n.parent ? " at line " + (n.fork_line + 1) : "") +
          (n.story_time ? " · " + shortTime(n.story_time) : "");
      });
    nodes.append("text").attr("x", 8).attr("y", 30)
      .text(function (d) { return truncate(d.data.first_words || "(no words yet)", 26); });
    nodes.append("title").text(function (d) {
      var n = d.data;
      return (n.speaker ? n.speaker + ": " : "") + (n.first_words || "") + (n.label ? "\n" + n.label : "");
    });
    nodes.on("click", function (ev, d) { activate(el, d.data); })
      .on("keydown", function (ev, d) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); activate(el, d.data); }
      });
    var active = el.querySelector(".bnode.active");
    if (active && el.scrollWidth > el.clientWidth) {
      el.scrollLeft = Math.max(0, active.getBBox ? (d3.select(active).datum().y - 20) : 0);
    }
  }

  // -- wiring ------------------------------------------------------------------------------
  function drawAll() {
    var drawer = document.getElementById("drawer");
    if (!drawer) return;
    var graph = drawer.querySelector("[data-testid=relationship-graph]");
    if (graph) drawGraph(graph);
    var timeline = drawer.querySelector("[data-testid=relationship-timeline]");
    if (timeline) withData(timeline, drawTimeline);
    var strip = drawer.querySelector("[data-testid=story-strip]");
    if (strip) withData(strip, drawStrip);
    var tree = drawer.querySelector("[data-testid=branch-tree]");
    if (tree) withData(tree, drawTree);
  }

  function redrawFromCache() {
    hideTip();
    var drawer = document.getElementById("drawer");
    if (!drawer) return;
    var graph = drawer.querySelector("[data-testid=relationship-graph]");
    if (graph) drawGraph(graph);
    [["relationship-timeline", drawTimeline], ["story-strip", drawStrip], ["branch-tree", drawTree]]
      .forEach(function (pair) {
        var el = drawer.querySelector("[data-testid=" + pair[0] + "]");
        var cached = el && cache[el.dataset.url];
        if (cached) pair[1](el, cached.data);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.getElementById("drawer")) return;
    drawAll();
    var width = 0;
    var observer = new ResizeObserver(function (entries) {
      var w = Math.round(entries[0].contentRect.width);
      if (w && Math.abs(w - width) > 8) { width = w; redrawFromCache(); }
    });
    observer.observe(document.getElementById("drawer"));
  });
  document.addEventListener("rp:drawer", drawAll);
  document.addEventListener("rp:theme", redrawFromCache);
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redrawFromCache);
  document.addEventListener("change", function (e) {
    if (e.target.name === "timeline-metric") redrawFromCache();
  });
  document.addEventListener("scroll", hideTip, true);
})();
