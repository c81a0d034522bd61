/* The course player: table of contents, previous/next, the content frame on the content
 * origin. All navigation goes through `navigate(request, target)`, which asks the server
 * where to go (simple flow today; the sequencer later answers the same request). */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("lms-player-config").textContent);
  var contentOrigin = config.content_origin || window.location.origin;
  var frame = document.getElementById("content");
  var message = document.getElementById("message");
  var current = null, busy = false, buttons = {};

  document.getElementById("course-title").textContent = config.toc.title;

  function renderItems(items, parent) {
    items.forEach(function (item) {
      if (!item.visible) return;
      var li = document.createElement("li");
      if (item.launches) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = item.title;
        b.dataset.item = item.item_id;
        b.addEventListener("click", function () { navigate("choice", item.item_id); });
        var s = document.createElement("span");
        s.className = "status";
        b.appendChild(s);
        buttons[item.item_id] = b;
        li.appendChild(b);
      } else {
        li.textContent = item.title;
      }
      if (item.children.length) {
        var ul = document.createElement("ul");
        renderItems(item.children, ul);
        li.appendChild(ul);
      }
      parent.appendChild(li);
    });
  }
  renderItems(config.toc.items, document.getElementById("toc"));

  function showCurrent() {
    Object.keys(buttons).forEach(function (id) { buttons[id].setAttribute("aria-current", String(id === current)); });
  }

  function refresh() {
    return fetch("/api/registrations/" + config.registration_id, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (report) {
        if (!report) return;
        document.getElementById("progress").textContent = report.completion.replace("_", " ") +
          (report.success !== "unknown" ? ", " + report.success : "");
        report.scos.forEach(function (sco) {
          var b = buttons[sco.item_id];
          if (b) b.lastChild.textContent = sco.completion === "completed" ? "✓" : sco.completion === "incomplete" ? "…" : "";
        });
      }, function () {});
  }

  /** The one navigation entry point: `request` is resume, continue, previous or choice. */
  function navigate(request, target) {
    if (busy) return Promise.resolve();
    busy = true;
    return fetch("/api/registrations/" + config.registration_id + "/sessions", {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({request: request, target: target || null, current: current})
    }).then(function (r) { return r.json().then(function (b) { return {ok: r.ok, body: b}; }); })
      .then(function (r) {
        busy = false;
        if (!r.ok) { message.textContent = r.body.error || "The course cannot be opened."; return; }
        if (r.body.end) { message.textContent = r.body.message; return; }
        message.textContent = r.body.review ? "Review mode: nothing you do here is recorded." : "";
        current = r.body.item_id;
        showCurrent();
        frame.src = r.body.frame_url;
      }, function () { busy = false; message.textContent = "The server cannot be reached."; });
  }
  window.lmsPlayer = {navigate: navigate, refresh: refresh, current: function () { return current; }};

  window.addEventListener("message", function (event) {
    if (event.origin !== contentOrigin || !event.data || typeof event.data.type !== "string") return;
    var m = event.data;
    if (m.type === "lms-scorm-committed") refresh();
    if (m.type === "lms-scorm-error") message.textContent = "Your progress cannot be saved: " + m.message;
    if (m.type === "lms-scorm-terminated") {
      refresh();
      var nav = m.nav_request || "";
      var choice = /^\{target=(.+)\}choice$/.exec(nav);
      if (nav === "continue") navigate("continue");
      else if (nav === "previous") navigate("previous");
      else if (choice) navigate("choice", choice[1]);
      else if (nav === "exit" || nav === "exitAll" || nav === "suspendAll" || nav === "abandon" || nav === "abandonAll") {
        frame.src = "about:blank";
        message.textContent = "You have left the course. Your progress is saved.";
      }
    }
  });
  document.getElementById("next").addEventListener("click", function () { navigate("continue"); });
  document.getElementById("previous").addEventListener("click", function () { navigate("previous"); });
  refresh();
  navigate("resume");
})();
