/* lms SCORM shim: the content frame's `window.API` (SCORM 1.2) and `window.API_1484_11`
 * (SCORM 2004). Content finds them with the standard search (its own window, then parents,
 * then the opener). Every call is answered synchronously by the local run-time copy
 * (`LmsRte`, a port of the Rust run-time); the calls the run-time accepted since the last
 * Commit/Terminate travel to the server as one batch with a sequence number. Batches are
 * resent with back-off until the server acknowledges them (it stores them before answering
 * and applies each sequence number once); when the page goes away every unacknowledged batch
 * leaves with `fetch(…, {keepalive: true})` or `navigator.sendBeacon`. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("lms-frame-config").textContent);
  var attempt = new LmsRte.Attempt(config.attempt);
  var version = config.attempt.config.version;
  var pending = [];      // accepted calls not yet in a batch
  var unacked = [];      // batches sent or waiting, oldest first
  var seq = 0;           // last sequence number given out
  var acked = 0;         // highest sequence number the server stored
  var inFlight = false, retryTimer = null, backoff = 250, leaving = false, stopped = null;
  var status = {seq: 0, acked: 0, failures: 0, refused: [], stopped: null};

  function now() { return Date.now(); }
  function post(type, extra) {
    var message = {type: type, session_id: config.session_id, item_id: config.item_id};
    for (var k in extra) message[k] = extra[k];
    try { window.parent.postMessage(message, "*"); } catch (e) { /* no player */ }
  }

  /** Only scalar elements are coalesced (the last value wins); array elements and
   * `cmi.comments` (which appends in SCORM 1.2) keep every call, in order. */
  function record(call) {
    if (call[0] === "SetValue" || call[0] === "LMSSetValue") {
      var name = call[1];
      if (!/\.[0-9]+(\.|$)/.test(name) && name !== "cmi.comments") {
        for (var i = pending.length - 1; i >= 0; i--) {
          var p = pending[i];
          if ((p[0] === "SetValue" || p[0] === "LMSSetValue") && p[1] === name) { pending.splice(i, 1); break; }
        }
      }
    }
    pending.push(call);
  }

  function seal() {
    if (!pending.length) return;
    seq += 1;
    unacked.push({seq: seq, calls: pending});
    pending = [];
    status.seq = seq;
  }

  function body() { return JSON.stringify({token: config.token, batches: unacked}); }

  function onAck(ack) {
    if (ack.acked_seq > acked) acked = ack.acked_seq;
    unacked = unacked.filter(function (b) { return b.seq > acked; });
    status.acked = acked;
    if (ack.refused && ack.refused.length) status.refused = status.refused.concat(ack.refused);
    backoff = 250;
    post("lms-scorm-committed", {acked_seq: acked, terminated: ack.terminated, nav_request: ack.nav_request});
    if (ack.terminated) post("lms-scorm-terminated", {nav_request: ack.nav_request || null});
  }

  function send() {
    if (inFlight || stopped || !unacked.length || leaving) return;
    inFlight = true;
    var upto = unacked[unacked.length - 1].seq;
    fetch(config.commit_url, {method: "POST", headers: {"Content-Type": "application/json"}, body: body(), cache: "no-store"})
      .then(function (response) {
        return response.json().then(function (json) { return {status: response.status, json: json}; });
      })
      .then(function (r) {
        inFlight = false;
        if (r.status === 200) {
          onAck(r.json);
          if (unacked.length && unacked[unacked.length - 1].seq > upto) send();
          else if (unacked.length) retry();
        } else if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
          stopped = (r.json && r.json.error) || ("HTTP " + r.status);
          status.stopped = stopped;
          post("lms-scorm-error", {message: stopped});
        } else retry();
      }, function () { inFlight = false; retry(); });
  }

  function retry() {
    status.failures += 1;
    if (retryTimer || leaving) return;
    var wait = backoff;
    backoff = Math.min(backoff * 2, 10000);
    retryTimer = setTimeout(function () { retryTimer = null; send(); }, wait + Math.floor(Math.random() * wait / 4));
  }

  /** The page is going away: everything not acknowledged leaves in one request the browser
   * keeps alive (the server skips what it already stored). */
  function flushOnExit() {
    seal();
    if (!unacked.length || stopped) return;
    var data = body();
    var sent = false;
    if (data.length < 60000) {
      try {
        fetch(config.commit_url, {method: "POST", headers: {"Content-Type": "application/json"}, body: data, keepalive: true});
        sent = true;
      } catch (e) { sent = false; }
    }
    if (!sent && navigator.sendBeacon) sent = navigator.sendBeacon(config.commit_url, new Blob([data], {type: "text/plain"}));
    if (!sent) {
      try { fetch(config.commit_url, {method: "POST", body: data}); } catch (e) { /* nothing left to try */ }
    }
  }

  function call(method, args) {
    var reply = attempt.handle(method, args, now());
    var kind = method.replace(/^LMS/, "");
    if (reply.error === 0 && (kind === "Initialize" || kind === "SetValue")) {
      record([method].concat(args.map(String)));
    } else if (reply.error === 0 && (kind === "Commit" || kind === "Finish" || kind === "Terminate")) {
      record([method, ""]);
      seal();
      if (leaving) flushOnExit(); else send();
    }
    return reply.value;
  }

  function api12() {
    return {
      LMSInitialize: function (a) { return call("LMSInitialize", [a === undefined ? "" : a]); },
      LMSFinish: function (a) { return call("LMSFinish", [a === undefined ? "" : a]); },
      LMSGetValue: function (e) { return call("LMSGetValue", [e === undefined ? "" : e]); },
      LMSSetValue: function (e, v) { return call("LMSSetValue", [e === undefined ? "" : e, v === undefined ? "" : v]); },
      LMSCommit: function (a) { return call("LMSCommit", [a === undefined ? "" : a]); },
      LMSGetLastError: function () { return call("LMSGetLastError", []); },
      LMSGetErrorString: function (c) { return call("LMSGetErrorString", [c === undefined ? "" : c]); },
      LMSGetDiagnostic: function (c) { return call("LMSGetDiagnostic", [c === undefined ? "" : c]); },
      lms: status
    };
  }
  function api2004() {
    return {
      version: "1.0",
      Initialize: function (a) { return call("Initialize", [a === undefined ? "" : a]); },
      Terminate: function (a) { return call("Terminate", [a === undefined ? "" : a]); },
      GetValue: function (e) { return call("GetValue", [e === undefined ? "" : e]); },
      SetValue: function (e, v) { return call("SetValue", [e === undefined ? "" : e, v === undefined ? "" : v]); },
      Commit: function (a) { return call("Commit", [a === undefined ? "" : a]); },
      GetLastError: function () { return call("GetLastError", []); },
      GetErrorString: function (c) { return call("GetErrorString", [c === undefined ? "" : c]); },
      GetDiagnostic: function (c) { return call("GetDiagnostic", [c === undefined ? "" : c]); },
      lms: status
    };
  }
  if (version === "scorm12") window.API = api12(); else window.API_1484_11 = api2004();

  /** Leaving: unload the SCO first (its unload handler usually calls Terminate/LMSFinish), so
   * its last calls join the final request; later calls are flushed as they come. */
  function leave() {
    if (leaving) return;
    var frame = document.getElementById("sco");
    if (frame && frame.parentNode) frame.parentNode.removeChild(frame);
    if (attempt.s.state === "running" && pending.length) {
      // implicit commit: the content left without committing what it set
      attempt.handle(version === "scorm12" ? "LMSCommit" : "Commit", [""], now());
      record([version === "scorm12" ? "LMSCommit" : "Commit", ""]);
    }
    leaving = true;
    flushOnExit();
  }
  window.addEventListener("pagehide", leave);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { seal(); if (unacked.length && !inFlight) flushOnExit(); }
  });
  /** The player navigates away from this SCO: unload it (its unload handler usually calls
   * Terminate), send what it left and report back once the server has stored it, so the
   * navigation that follows sees the SCO's last data. */
  function unloadForNavigation() {
    var frame = document.getElementById("sco");
    if (frame && frame.parentNode) frame.parentNode.removeChild(frame);
    if (attempt.s.state === "running" && pending.length) {
      attempt.handle(version === "scorm12" ? "LMSCommit" : "Commit", [""], now());
      record([version === "scorm12" ? "LMSCommit" : "Commit", ""]);
    }
    seal();
    send();
    var deadline = now() + 8000;
    (function wait() {
      if ((!unacked.length && !inFlight) || stopped || now() > deadline) {
        post("lms-scorm-unloaded", {acked_seq: acked, stored: !unacked.length});
        return;
      }
      setTimeout(wait, 30);
    })();
  }
  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.type === "lms-scorm-unload") {
      unloadForNavigation();
    }
  });

  var sco = document.getElementById("sco");
  sco.src = config.sco_url;
  post("lms-scorm-launched", {review: config.review});
})();
