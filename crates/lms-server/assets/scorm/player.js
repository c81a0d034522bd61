/* The course player: table of contents, navigation buttons, the content frame on the content
 * origin. All navigation goes through `navigate(request, target)`, which first unloads the
 * running SCO (so it terminates and its last data is stored), then asks the server where to
 * go: the SCORM 2004 sequencer, or simple flow for SCORM 1.2. For SCORM 2004 the server's
 * request validity decides which buttons and table of contents entries are shown, enabled
 * or disabled; `hideLMSUI` of the delivered item hides buttons. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("lms-player-config").textContent);
  var contentOrigin = config.content_origin || window.location.origin;
  var sequenced = config.version !== "scorm12";
  var frame = document.getElementById("content");
  var message = document.getElementById("message");
  var current = null, busy = false, buttons = {}, frameLive = false, pending = null, unloadWaiter = null;
  var navigation = null, hide = [];
  var controls = {
    previous: document.getElementById("previous"),
    "continue": document.getElementById("next"),
    suspend_all: document.getElementById("suspend"),
    exit_all: document.getElementById("exit")
  };
  var delivered = [];   // item ids in delivery order (read by tests and the status line)

  document.getElementById("course-title").textContent = config.toc.title;

  function renderItems(items, parent) {
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.dataset.item = item.item_id;
      if (!item.visible) li.hidden = true;
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
        var label = document.createElement("span");
        label.textContent = item.title;
        li.appendChild(label);
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
  if (!sequenced) { controls.suspend_all.hidden = true; controls.exit_all.hidden = true; }

  function showCurrent() {
    Object.keys(buttons).forEach(function (id) { buttons[id].setAttribute("aria-current", String(id === current)); });
  }

  /** Buttons and table of contents as the sequencer's request validity says. */
  function applyNavigation(nav, hidden) {
    if (!sequenced || !nav) return;
    navigation = nav;
    if (hidden) hide = hidden;
    Object.keys(controls).forEach(function (key) {
      var control = controls[key];
      control.hidden = hide.indexOf(key) >= 0;
      control.disabled = !nav[key];
    });
    var items = document.querySelectorAll("#toc li[data-item]");
    Array.prototype.forEach.call(items, function (li) {
      var state = nav.activities[li.dataset.item];
      if (!state) return;
      li.hidden = state.hidden;
      var b = buttons[li.dataset.item];
      if (b) {
        b.disabled = state.disabled;
        b.setAttribute("aria-disabled", String(state.disabled));
      }
    });
  }

  function refresh() {
    return fetch("/api/registrations/" + config.registration_id, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (report) {
        if (!report) return;
        var status = report.completion.replace("_", " ") + (report.success !== "unknown" ? ", " + report.success : "");
        if (report.sequencing && report.sequencing.course) {
          var course = report.sequencing.course;
          status = (course.completed === true ? "completed" : course.completed === false ? "incomplete" : "not attempted") +
            (course.satisfied === true ? ", passed" : course.satisfied === false ? ", failed" : "");
        }
        document.getElementById("progress").textContent = status;
        report.scos.forEach(function (sco) {
          var b = buttons[sco.item_id];
          if (b) b.lastChild.textContent = sco.completion === "completed" ? "✓" : sco.completion === "incomplete" ? "…" : "";
        });
        if (report.sequencing && !busy) applyNavigation(report.sequencing.navigation);
      }, function () {});
  }

  /** Asks the content frame to unload its SCO and store what it has; resolves when done. */
  function unloadContent() {
    if (!frameLive) return Promise.resolve();
    frameLive = false;
    return new Promise(function (resolve) {
      var timer = setTimeout(function () { unloadWaiter = null; resolve(); }, 10000);
      unloadWaiter = function () { clearTimeout(timer); unloadWaiter = null; resolve(); };
      try { frame.contentWindow.postMessage({type: "lms-scorm-unload"}, contentOrigin); } catch (e) { unloadWaiter(); }
    });
  }

  /** The one navigation entry point: `request` is resume, continue, previous, choice, jump,
   * exit, exitAll, suspendAll, abandon, abandonAll or an `adl.nav.request` value. */
  function navigate(request, target) {
    if (busy) return Promise.resolve();
    busy = true;
    pending = {request: request, target: target || null};
    return unloadContent().then(function () {
      return fetch("/api/registrations/" + config.registration_id + "/sessions", {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({request: request, target: target || null, current: current})
      });
    }).then(function (r) { return r.json().then(function (b) { return {ok: r.ok, body: b}; }); })
      .then(function (r) {
        busy = false;
        pending = null;
        if (!r.ok) { message.textContent = r.body.error || "The course cannot be opened."; return; }
        if (r.body.end) {
          message.textContent = r.body.message;
          message.dataset.kind = r.body.refused ? "refused" : "ended";
          if (!r.body.active) { frame.src = "about:blank"; current = null; showCurrent(); }
          applyNavigation(r.body.navigation, []);
          refresh();
          return;
        }
        message.textContent = r.body.review ? "Review mode: nothing you do here is recorded." : "";
        message.dataset.kind = "";
        current = r.body.item_id;
        delivered.push(current);
        showCurrent();
        applyNavigation(r.body.navigation, r.body.navigation ? r.body.navigation.hide : []);
        frameLive = true;
        frame.src = r.body.frame_url;
      }, function () { busy = false; pending = null; message.textContent = "The server cannot be reached."; });
  }
  window.lmsPlayer = {
    navigate: navigate, refresh: refresh,
    current: function () { return current; },
    delivered: function () { return delivered.slice(); },
    busy: function () { return busy; },
    navigation: function () { return navigation; }
  };

  window.addEventListener("message", function (event) {
    if (event.origin !== contentOrigin || !event.data || typeof event.data.type !== "string") return;
    var m = event.data;
    if (m.type === "lms-scorm-unloaded" && unloadWaiter) unloadWaiter();
    if (m.type === "lms-scorm-committed") refresh();
    if (m.type === "lms-scorm-error") message.textContent = "Your progress cannot be saved: " + m.message;
    if (m.type === "lms-scorm-terminated") {
      refresh();
      if (pending) return;   // the learner's button wins over the SCO's own request
      var nav = m.nav_request || "";
      if (!nav || nav === "_none_") return;
      frameLive = false;
      if (sequenced) { navigate(nav); return; }
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
  controls["continue"].addEventListener("click", function () { navigate("continue"); });
  controls.previous.addEventListener("click", function () { navigate("previous"); });
  controls.suspend_all.addEventListener("click", function () { navigate("suspendAll"); });
  controls.exit_all.addEventListener("click", function () { navigate("exitAll"); });
  refresh();
  navigate("resume");
})();
