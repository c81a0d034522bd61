//! The SCORM player end to end in real headless Chromium (Debian's `chromium` and
//! `chromedriver`, driven over the W3C WebDriver protocol with a few lines of HTTP): the golf
//! example packages (SCORM 1.2 and 2004) are uploaded to a spawned `lms serve`, played through
//! the player, reloaded (resume), closed right after a `SetValue` (the last data must arrive),
//! and the server is killed with SIGKILL in the middle of a stream of commits (every commit the
//! browser saw acknowledged must be there after the restart).
//!
//! Without Chromium the tests fail under `CI` and otherwise skip loudly.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ADMIN: &str = "browser-admin-token-0123456789";
const PASSWORD: &str = "learner-password-1";

fn tools() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{CHROMIUM} and {CHROMEDRIVER} are needed (cargo xtask test installs them)");
    }
    eprintln!("!!! SKIPPING the browser tests: {CHROMIUM} or {CHROMEDRIVER} is missing");
    false
}

fn golf(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/packages").join(name);
    if path.is_dir() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("the golf package {} is missing", path.display());
    }
    eprintln!("!!! SKIPPING the browser tests: {} is missing", path.display());
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// ---- a minimal HTTP/1.1 client -------------------------------------------------------------------

struct Http {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Http {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<Http> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    // Read the head, then exactly the body (some servers keep the connection open anyway).
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let split = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let lower = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let length: Option<usize> = lower
        .split("\r\n")
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok());
    let is_chunked = lower.contains("transfer-encoding: chunked");
    loop {
        let have = raw.len() - split - 4;
        let done = match length {
            Some(len) => have >= len,
            None if is_chunked => raw.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 2 + size + 2..];
        }
        body = out;
    }
    Ok(Http { status, headers, body })
}

fn api(port: u16, method: &str, path: &str, body: Option<Value>) -> Http {
    let auth = format!("Bearer {ADMIN}");
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    http(port, method, path, &[("Authorization", &auth), ("Content-Type", "application/json")], &bytes).unwrap()
}

// ---- the server ---------------------------------------------------------------------------------------

struct Server {
    child: Child,
    port: u16,
    data: PathBuf,
}

impl Server {
    fn start(data: &Path, port: u16, content_port: u16) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_lms"))
            .args(["serve", "--data"])
            .arg(data)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .env("LMS_ADMIN_TOKEN", ADMIN)
            .env("LMS_LRS_BASIC", "lrs-key:lrs-secret")
            .env("LMS_PUBLIC_URL", "https://lms.example.org")
            .env("LMS_CONTENT_BIND", format!("127.0.0.1:{content_port}"))
            .env_remove("LMS_DATABASE_URL")
            .env_remove("LMS_CONTENT_ORIGIN")
            .env("LMS_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lms serve starts");
        let server = Server { child, port, data: data.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let main_up = http(port, "GET", "/healthz", &[], b"").is_ok_and(|r| r.status == 200);
            let content_up = http(content_port, "GET", "/content/x/y", &[], b"").is_ok();
            if main_up && content_up {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("lms serve did not come up on ports {port}/{content_port}");
    }

    /// `kill -9`: no shutdown, no flush, nothing.
    fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn zip_dir(dir: &Path) -> Vec<u8> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let name = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                out.push((name, path));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut cursor);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, path) in files {
        writer.start_file(name, options).unwrap();
        writer.write_all(&std::fs::read(path).unwrap()).unwrap();
    }
    writer.finish().unwrap();
    cursor.into_inner()
}

/// A learner with a password, the package uploaded, a registration: `(registration id, cookie)`.
fn prepare(server: &Server, package_dir: &Path, learner: &str) -> (String, String) {
    let r = api(server.port, "POST", "/api/people", Some(json!({
        "personnel_number": learner, "name": format!("Learner {learner}"), "roles": ["learner"], "password": PASSWORD
    })));
    assert!(r.status == 201 || r.status == 409, "{}", String::from_utf8_lossy(&r.body));
    let auth = format!("Bearer {ADMIN}");
    let r = http(server.port, "POST", "/api/packages", &[("Authorization", &auth), ("Content-Type", "application/zip")], &zip_dir(package_dir))
        .unwrap();
    assert!(r.status == 201 || r.status == 200, "{}", String::from_utf8_lossy(&r.body));
    let package_id = r.json()["id"].as_str().unwrap().to_string();
    let r = api(server.port, "POST", "/api/registrations", Some(json!({ "package_id": package_id, "personnel_number": learner })));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let registration = r.json()["id"].as_str().unwrap().to_string();
    let login = json!({ "personnel_number": learner, "password": PASSWORD }).to_string();
    let r = http(server.port, "POST", "/api/login", &[("Content-Type", "application/json")], login.as_bytes()).unwrap();
    assert_eq!(r.status, 200);
    let cookie = r.header("set-cookie").unwrap();
    let secret = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
    (registration, secret)
}

fn report(server: &Server, registration: &str) -> Value {
    let r = api(server.port, "GET", &format!("/api/registrations/{registration}"), None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn cmi(report: &Value, element: &str) -> Option<String> {
    report["scos"][0]["cmi"][element].as_str().map(str::to_string)
}

fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

// ---- WebDriver ----------------------------------------------------------------------------------------

struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        wait_for("chromedriver", Duration::from_secs(20), || http(port, "GET", "/status", &[], b"").is_ok());
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "unhandledPromptBehavior": "accept",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let r = http(port, "POST", "/session", &[("Content-Type", "application/json")], capabilities.to_string().as_bytes()).unwrap();
        let session = r.json()["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {}", String::from_utf8_lossy(&r.body)))
            .to_string();
        Browser { driver, port, session, _profile: profile }
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
        let r = http(self.port, method, &path, &[("Content-Type", "application/json")], &body).unwrap();
        let value = r.json();
        if r.status != 200 {
            panic!("WebDriver {method} {path}: {} {}", r.status, value);
        }
        value["value"].clone()
    }

    fn try_cmd(&self, method: &str, path: &str, body: Value) -> Option<Value> {
        let path = format!("/session/{}{path}", self.session);
        let r = http(self.port, method, &path, &[("Content-Type", "application/json")], body.to_string().as_bytes()).ok()?;
        (r.status == 200).then(|| r.json()["value"].clone())
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` in the SCO's frame (player → content frame → SCO), waiting until the
    /// frames exist. `None` while they do not.
    fn in_frame(&self, depth: usize, script: &str) -> Option<Value> {
        self.try_cmd("POST", "/frame", json!({ "id": null }))?;
        for _ in 0..depth {
            self.try_cmd("POST", "/frame", json!({ "id": 0 }))?;
        }
        self.try_cmd("POST", "/execute/sync", json!({ "script": script, "args": [] }))
    }

    fn sco(&self, script: &str) -> Value {
        let mut out = None;
        wait_for(&format!("the SCO frame to run {script}"), Duration::from_secs(30), || {
            out = self.in_frame(2, script);
            out.is_some()
        });
        out.unwrap()
    }

    /// Waits until the SCO has initialized through the shim (its page loaded and called
    /// Initialize/LMSInitialize).
    fn wait_initialized(&self, api: &str) {
        let script = format!(
            "var a = window.parent && window.parent.{api}; if (!a || !document.readyState || document.readyState !== 'complete') return false; \
             return a.{get}('cmi.{mode}') !== '' ;",
            get = if api == "API" { "LMSGetValue" } else { "GetValue" },
            mode = if api == "API" { "core.lesson_mode" } else { "mode" },
        );
        wait_for("the SCO to initialize", Duration::from_secs(30), || self.in_frame(2, &script) == Some(json!(true)));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(self.port, "DELETE", &format!("/session/{}", self.session), &[], b"");
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn open_player(browser: &Browser, server: &Server, registration: &str, cookie: &str) {
    browser.go(&format!("http://127.0.0.1:{}/healthz", server.port));
    browser.cmd("POST", "/cookie", json!({ "cookie": { "name": "lms_session", "value": cookie, "path": "/" } }));
    browser.go(&format!("http://127.0.0.1:{}/player/{registration}", server.port));
}

#[test]
fn golf_packages_play_resume_and_survive_a_closed_tab() {
    if !tools() {
        return;
    }
    let (Some(golf2004), Some(golf12)) =
        (golf("scorm2004/RuntimeBasicCalls_SCORM20043rdEdition"), golf("scorm12/RuntimeBasicCalls_SCORM12"))
    else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), free_port(), free_port());
    let browser = Browser::start();

    // ---- SCORM 2004: play, commit, check the report
    let (reg, cookie) = prepare(&server, &golf2004, "L2004");
    open_player(&browser, &server, &reg, &cookie);
    browser.wait_initialized("API_1484_11");
    // the content cannot see the player: other origin
    let blocked = browser.sco("try { return String(window.top.document.cookie); } catch (e) { return 'blocked'; }");
    assert_eq!(blocked, json!("blocked"));
    assert_eq!(browser.sco("return window.parent.API_1484_11.GetValue('cmi.entry');"), json!("ab-initio"));
    browser.sco("doNext(); doNext(); return true;");
    browser.sco(
        "var a = window.parent.API_1484_11; a.SetValue('cmi.suspend_data', 'sd-1'); return a.Commit('');",
    );
    wait_for("location 2 and suspend data in the report", Duration::from_secs(20), || {
        let r = report(&server, &reg);
        cmi(&r, "cmi.location").as_deref() == Some("2") && cmi(&r, "cmi.suspend_data").as_deref() == Some("sd-1")
    });
    let r = report(&server, &reg);
    assert_eq!(r["completion"], "incomplete", "{r}");
    assert_eq!(r["scos"][0]["item_id"], "item_1");

    // ---- reload: the golf content suspends on unload; the new launch resumes
    browser.cmd("POST", "/refresh", json!({}));
    browser.wait_initialized("API_1484_11");
    assert_eq!(browser.sco("return window.parent.API_1484_11.GetValue('cmi.entry');"), json!("resume"));
    assert_eq!(browser.sco("return window.parent.API_1484_11.GetValue('cmi.location');"), json!("2"));
    assert_eq!(browser.sco("return window.parent.API_1484_11.GetValue('cmi.suspend_data');"), json!("sd-1"));
    // to the end: completed, then exit (exitAll)
    browser.sco("for (var i = 0; i < 20; i++) doNext(); return reachedEnd;");
    browser.sco("doExit(); return true;");
    wait_for("completion and a terminated session", Duration::from_secs(20), || {
        let r = report(&server, &reg);
        r["completion"] == "completed" && r["scos"][0]["cmi"]["cmi.total_time"] != "PT0H0M0S"
    });
    // ---- the same learning as xAPI statements in the LRS (SCORM tracked as xAPI)
    let lrs = http(
        server.port,
        "GET",
        &format!("/xapi/statements?registration={reg}&ascending=true&limit=500"),
        &[("Authorization", "Basic bHJzLWtleTpscnMtc2VjcmV0"), ("X-Experience-API-Version", "2.0.0")],
        b"",
    )
    .unwrap();
    assert_eq!(lrs.status, 200, "{}", String::from_utf8_lossy(&lrs.body));
    let statements = lrs.json()["statements"].as_array().cloned().unwrap_or_default();
    let verbs: Vec<&str> = statements.iter().filter_map(|s| s["verb"]["id"].as_str()).map(|v| v.rsplit('/').next().unwrap()).collect();
    for expected in ["initialized", "suspended", "resumed", "completed", "terminated"] {
        assert!(verbs.contains(&expected), "{expected} missing from {verbs:?}");
    }
    assert_eq!(verbs.first(), Some(&"initialized"), "{verbs:?}");
    for s in &statements {
        assert_eq!(s["actor"]["account"], json!({"homePage": "https://lms.example.org", "name": "L2004"}), "{s}");
        assert_eq!(s["context"]["registration"], json!(reg), "{s}");
    }

    // ---- SCORM 1.2: play, then close the tab right after a SetValue
    let (reg12, cookie12) = prepare(&server, &golf12, "L12");
    let first = browser.cmd("GET", "/window", json!(null));
    let tab = browser.cmd("POST", "/window/new", json!({ "type": "tab" }));
    browser.cmd("POST", "/window", json!({ "handle": tab["handle"] }));
    open_player(&browser, &server, &reg12, &cookie12);
    browser.wait_initialized("API");
    assert_eq!(browser.sco("return window.parent.API.LMSGetValue('cmi.core.entry');"), json!("ab-initio"));
    browser.sco("doNext(); return true;");
    browser.sco("return window.parent.API.LMSSetValue('cmi.suspend_data', 'last-words');");
    browser.cmd("DELETE", "/window", json!(null));
    browser.cmd("POST", "/window", json!({ "handle": first }));
    wait_for("the last SetValue after the tab closed", Duration::from_secs(20), || {
        cmi(&report(&server, &reg12), "cmi.suspend_data").as_deref() == Some("last-words")
    });
    let r = report(&server, &reg12);
    assert_eq!(cmi(&r, "cmi.core.lesson_location").as_deref(), Some("1"), "{r}");
    // reopen: the golf content's unload handler finished without `exit=suspend` when the tab
    // closed, so SCORM 1.2 keeps the data with entry = ""
    open_player(&browser, &server, &reg12, &cookie12);
    browser.wait_initialized("API");
    assert_eq!(browser.sco("return window.parent.API.LMSGetValue('cmi.core.entry');"), json!(""));
    assert_eq!(browser.sco("return window.parent.API.LMSGetValue('cmi.suspend_data');"), json!("last-words"));
    // a reload goes through beforeunload, where the content suspends: entry = resume
    browser.cmd("POST", "/refresh", json!({}));
    browser.wait_initialized("API");
    assert_eq!(browser.sco("return window.parent.API.LMSGetValue('cmi.core.entry');"), json!("resume"));
    assert_eq!(browser.sco("return window.parent.API.LMSGetValue('cmi.core.lesson_location');"), json!("1"));
    assert_eq!(browser.sco("return window.parent.API.LMSGetValue('cmi.suspend_data');"), json!("last-words"));
}

#[test]
fn acknowledged_commits_survive_kill_9() {
    if !tools() {
        return;
    }
    let Some(golf2004) = golf("scorm2004/RuntimeBasicCalls_SCORM20043rdEdition") else { return };
    let data = tempfile::tempdir().unwrap();
    let (port, content_port) = (free_port(), free_port());
    let mut server = Server::start(data.path(), port, content_port);
    let browser = Browser::start();
    let (reg, cookie) = prepare(&server, &golf2004, "K1");
    open_player(&browser, &server, &reg, &cookie);
    browser.wait_initialized("API_1484_11");
    // a stream of commits: suspend_data n=1, n=2, …; the log maps sequence numbers to n
    browser.sco(
        "var a = window.parent.API_1484_11; window.lmsLog = []; var n = 0; \
         window.lmsTimer = setInterval(function () { n += 1; a.SetValue('cmi.suspend_data', 'n=' + n); a.Commit(''); \
         window.lmsLog.push([a.lms.seq, n]); }, 15); return true;",
    );
    wait_for("some acknowledged commits", Duration::from_secs(20), || {
        browser.sco("return window.parent.API_1484_11.lms.acked;").as_i64().unwrap_or(0) >= 20
    });
    server.kill_9();
    let seen = browser.sco(
        "clearInterval(window.lmsTimer); var acked = window.parent.API_1484_11.lms.acked, best = 0; \
         window.lmsLog.forEach(function (e) { if (e[0] <= acked && e[1] > best) best = e[1]; }); return [acked, best];",
    );
    let (acked, best) = (seen[0].as_i64().unwrap(), seen[1].as_i64().unwrap());
    assert!(acked >= 20 && best >= 20, "{seen}");
    let server = Server::start(&server.data.clone(), port, content_port);
    let r = report(&server, &reg);
    let stored: i64 = cmi(&r, "cmi.suspend_data")
        .and_then(|v| v.strip_prefix("n=").and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("no suspend data after the restart: {r}"));
    eprintln!("kill -9: browser saw commit {acked} (n={best}) acknowledged; the store has n={stored}");
    assert!(stored >= best, "acknowledged n={best} but the store has n={stored}");
    let commits = api(server.port, "GET", &format!("/api/registrations/{reg}"), None);
    assert_eq!(commits.status, 200);
}

// ---- SCORM 2004 sequencing: the six golf sequencing examples -------------------------------------------

/// Runs `script` in the player page itself (the top frame).
fn in_player(browser: &Browser, script: &str) -> Value {
    let mut out = None;
    wait_for(&format!("the player to run {script}"), Duration::from_secs(30), || {
        out = browser.in_frame(0, script);
        out.is_some()
    });
    out.unwrap()
}

/// The player's state: `[number delivered, current item, message, message kind, busy]`.
fn player_state(browser: &Browser) -> Value {
    in_player(
        browser,
        "var m = document.getElementById('message'); \
         return [lmsPlayer.delivered().length, lmsPlayer.current(), m.textContent, m.dataset.kind || '', lmsPlayer.busy()];",
    )
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
}

/// Table of contents entries in a state: `disabled` true → entries that must be disabled.
fn toc_disabled(browser: &Browser, items: &[String]) -> Vec<bool> {
    let script = format!(
        "return {}.map(function (id) {{ var b = document.querySelector('#toc button[data-item=\"' + id + '\"]'); return !b || b.disabled; }});",
        serde_json::to_string(items).unwrap()
    );
    serde_json::from_value(in_player(browser, &script)).unwrap()
}

fn course_status(server: &Server, registration: &str) -> Value {
    let r = report(server, registration);
    let course = &r["sequencing"]["course"];
    json!({ "completed": course["completed"], "satisfied": course["satisfied"] })
}

/// What the learner does in a golf SCO.
fn sco_action(browser: &Browser, action: &str) {
    let script = match action {
        // page to the end: the content marks itself completed (and passed) and commits
        "finish" => "for (var i = 0; i < 20; i++) doNext(); return reachedEnd;",
        "pass" => "RecordTest(100); ScormProcessCommit(); return true;",
        "fail" => "RecordTest(0); ScormProcessCommit(); return true;",
        other => panic!("unknown SCO action {other:?} in golf_sequencing.json"),
    };
    assert_eq!(browser.sco(script), json!(true), "SCO action {action}");
}

fn press(browser: &Browser, control: &str) {
    let script = match control.split_once(':') {
        Some(("choice", item)) => format!("document.querySelector('#toc button[data-item=\"{item}\"]').click(); return true;"),
        _ => {
            let id = match control {
                "continue" => "next",
                "previous" => "previous",
                "exit" => "exit",
                "suspend" => "suspend",
                other => panic!("unknown player control {other:?} in golf_sequencing.json"),
            };
            // The control's state follows the SCO's last commit only once the player's
            // refresh of the request validity has come back (slow on a loaded machine): wait
            // for it to be offered, then press it.
            let offered = format!("var b = document.getElementById('{id}'); return !(b.disabled || b.hidden);");
            let mut waited = Duration::ZERO;
            while in_player(browser, &offered) != json!(true) && waited < Duration::from_secs(20) {
                in_player(browser, "lmsPlayer.refresh(); return true;");
                std::thread::sleep(Duration::from_millis(200));
                waited += Duration::from_millis(200);
            }
            format!("var b = document.getElementById('{id}'); if (b.disabled || b.hidden) return 'unavailable'; b.click(); return true;")
        }
    };
    assert_eq!(in_player(browser, &script), json!(true), "pressing {control}");
}

/// Waits for the golf SCO to have started; the 4th edition sample loads jQuery from a CDN the
/// test machine cannot reach, so `$` is stubbed and its start function run again.
fn wait_sco_started(browser: &Browser, stub_jquery: bool) {
    if stub_jquery {
        wait_for("the SCO page to load", Duration::from_secs(60), || {
            browser.in_frame(2, "return document.readyState === 'complete' && typeof doStart === 'function';") == Some(json!(true))
        });
        browser.sco(
            "if (typeof window.$ === 'undefined') { window.$ = function () { return {dialog: function () {}, val: function () { return ''; }}; }; doStart(); } return true;",
        );
    }
    browser.wait_initialized("API_1484_11");
}

#[test]
fn golf_sequencing_packages_play_in_the_expected_order() {
    if !tools() {
        return;
    }
    let data: Value = serde_json::from_str(include_str!("golf_sequencing.json")).expect("golf_sequencing.json parses");
    let scenarios = data["scenarios"].as_array().unwrap();
    let mut packages = Vec::new();
    for scenario in scenarios {
        let Some(dir) = golf(scenario["package"].as_str().unwrap()) else { return };
        packages.push(dir);
    }
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path(), free_port(), free_port());
    let browser = Browser::start();
    // `LMS_GOLF_SCENARIOS=name;name` plays only those (for debugging; said loudly).
    let only: Option<Vec<String>> = std::env::var("LMS_GOLF_SCENARIOS").ok().map(|v| v.split(';').map(str::to_string).collect());
    for (n, (scenario, dir)) in scenarios.iter().zip(&packages).enumerate() {
        let name = scenario["name"].as_str().unwrap();
        if let Some(only) = &only
            && !only.iter().any(|o| o == name)
        {
            eprintln!("!!! LMS_GOLF_SCENARIOS is set: scenario {name:?} NOT played");
            continue;
        }
        let stub_jquery = scenario["stub_jquery"].as_bool().unwrap_or(false);
        let (registration, cookie) = prepare(&server, dir, &format!("SEQ{n}"));
        open_player(&browser, &server, &registration, &cookie);
        let mut deliveries = 0;
        let mut order: Vec<String> = Vec::new();
        for (k, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{name}, step {}", k + 1);
            let wanted: Vec<String> = match (&step["deliver"], &step["deliver_any"]) {
                (Value::String(one), _) => vec![one.clone()],
                (_, any @ Value::Array(_)) => strings(any),
                _ => Vec::new(),
            };
            if !wanted.is_empty() {
                deliveries += 1;
                let mut state = Value::Null;
                wait_for(&format!("{at}: delivery of {wanted:?}"), Duration::from_secs(30), || {
                    state = player_state(&browser);
                    state[0].as_i64() == Some(deliveries) && state[4] == json!(false)
                });
                let current = state[1].as_str().unwrap_or_default().to_string();
                assert!(wanted.contains(&current), "{at}: delivered {current:?}, expected {wanted:?}; order so far {order:?}; player {state}");
                order.push(current);
                wait_sco_started(&browser, stub_jquery);
                if !step["course"].is_null() {
                    assert_eq!(course_status(&server, &registration), step["course"], "{at}: course status at delivery");
                }
                for control in strings(&step["hidden_controls"]) {
                    let hidden = in_player(&browser, &format!("return document.getElementById('{control}').hidden;"));
                    assert_eq!(hidden, json!(true), "{at}: hideLMSUI should hide {control}");
                }
            }
            let before = strings(&step["disabled_before"]);
            if !before.is_empty() {
                assert_eq!(toc_disabled(&browser, &before), vec![true; before.len()], "{at}: {before:?} should be disabled at first");
            }
            let disabled = strings(&step["disabled"]);
            if !disabled.is_empty() && step["sco"].is_null() {
                assert_eq!(toc_disabled(&browser, &disabled), vec![true; disabled.len()], "{at}: {disabled:?} should be disabled");
            }
            if let Some(action) = step["sco"].as_str() {
                sco_action(&browser, action);
            }
            // After the SCO's commit the player shows the live validity.
            let enabled = strings(&step["enabled"]);
            if !enabled.is_empty() || (!disabled.is_empty() && !step["sco"].is_null()) {
                wait_for(&format!("{at}: enabled {enabled:?}, disabled {disabled:?}"), Duration::from_secs(20), || {
                    in_player(&browser, "lmsPlayer.refresh(); return true;");
                    std::thread::sleep(Duration::from_millis(200));
                    toc_disabled(&browser, &enabled).iter().all(|d| !d) && toc_disabled(&browser, &disabled).iter().all(|d| *d)
                });
            }
            let Some(control) = step["press"].as_str() else { continue };
            let before = player_state(&browser);
            press(&browser, control);
            if step["refused"] == json!(true) || step["end"].is_string() {
                let kind = if step["refused"] == json!(true) { "refused" } else { "ended" };
                let mut state = Value::Null;
                wait_for(&format!("{at}: {control} to be {kind}"), Duration::from_secs(30), || {
                    state = player_state(&browser);
                    state[3] == json!(kind) && state[4] == json!(false)
                });
                assert_eq!(state[0], before[0], "{at}: nothing new may be delivered; order {order:?}");
                if let Some(message) = step["end"].as_str() {
                    assert_eq!(state[2], json!(message), "{at}");
                } else {
                    assert!(!state[2].as_str().unwrap_or_default().is_empty(), "{at}: a refusal shows a message");
                }
                if !step["final_course"].is_null() {
                    assert_eq!(course_status(&server, &registration), step["final_course"], "{at}: course status at the end");
                }
            }
        }
        eprintln!("golf sequencing: {name}: delivered {order:?}");
    }
}

/// cmi5 (issue 8) in real Chromium: every package of `corpus/packages/cmi5/` is uploaded,
/// registered and launched from the player; in the AU's window (the content origin) a small
/// AU written here fetches the token, reads `LMS.LaunchData` and the learner preferences and
/// sends initialized, completed, passed and terminated to the LRS on the main origin (CORS
/// across the two origins). Every AU and the course must end satisfied.
mod cmi5 {
    use super::*;

    /// The corpus packages run no AU script of their own here (their `js/` folder is not
    /// part of the corpus), so this one plays the AU: launch parameters from the URL, the
    /// cmi5 defined statements with the context template of `LMS.LaunchData`.
    const MINI_AU: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  const p = new URL(location.href).searchParams;
  const endpoint = p.get("endpoint"), actor = JSON.parse(p.get("actor")), registration = p.get("registration"), activityId = p.get("activityId");
  const out = {origin: location.origin, path: location.pathname, title: document.title};
  const fetched = await fetch(p.get("fetch"), {method: "POST"});
  const token = (await fetched.json())["auth-token"];
  const headers = {"X-Experience-API-Version": "1.0.3", "Authorization": "Basic " + token};
  const agent = JSON.stringify(actor);
  const launchData = await fetch(endpoint + "/activities/state?" + new URLSearchParams({stateId: "LMS.LaunchData", activityId, agent, registration}), {headers});
  out.launchData = launchData.status;
  const data = await launchData.json();
  const prefs = await fetch(endpoint + "/agents/profile?" + new URLSearchParams({profileId: "cmi5LearnerPreferences", agent}), {headers});
  out.prefs = prefs.status;
  const send = async (verb, result, moveOn) => {
    const context = JSON.parse(JSON.stringify(data.contextTemplate));
    context.registration = registration;
    context.contextActivities.category = [{id: "https://w3id.org/xapi/cmi5/context/categories/cmi5"}];
    if (moveOn) context.contextActivities.category.push({id: "https://w3id.org/xapi/cmi5/context/categories/moveon"});
    if (verb === "passed" && data.masteryScore !== undefined) context.extensions["https://w3id.org/xapi/cmi5/context/extensions/masteryscore"] = data.masteryScore;
    const statement = {id: crypto.randomUUID(), timestamp: new Date().toISOString(), actor, verb: {id: "http://adlnet.gov/expapi/verbs/" + verb}, object: {id: activityId}, context};
    if (result) statement.result = result;
    const r = await fetch(endpoint + "/statements", {method: "POST", headers: {...headers, "Content-Type": "application/json"}, body: JSON.stringify(statement)});
    return r.status;
  };
  out.initialized = await send("initialized");
  out.completed = await send("completed", {completion: true, duration: "PT1S"}, true);
  out.passed = await send("passed", {success: true, duration: "PT1S", score: {scaled: 1, raw: 100, min: 0, max: 100}}, true);
  out.terminated = await send("terminated", {duration: "PT2S"});
  return out;
})().then(done, (e) => done({error: String(e)}));
"#;

    fn corpus_cmi5() -> Option<PathBuf> {
        golf("cmi5")
    }

    /// `lms serve` whose public URL is where the browser reaches it (the LRS endpoint and
    /// fetch URL of a cmi5 launch are under it).
    fn start_server(data: &Path, port: u16, content_port: u16) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_lms"))
            .args(["serve", "--data"])
            .arg(data)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .env("LMS_ADMIN_TOKEN", ADMIN)
            .env("LMS_LRS_BASIC", "lrs-key:lrs-secret")
            .env("LMS_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("LMS_CONTENT_BIND", format!("127.0.0.1:{content_port}"))
            .env_remove("LMS_DATABASE_URL")
            .env_remove("LMS_CONTENT_ORIGIN")
            .env("LMS_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lms serve starts");
        let server = Server { child, port, data: data.to_path_buf() };
        wait_for("lms serve", Duration::from_secs(30), || {
            http(port, "GET", "/healthz", &[], b"").is_ok_and(|r| r.status == 200) && http(content_port, "GET", "/content/x/y", &[], b"").is_ok()
        });
        server
    }

    fn click_au(browser: &Browser, index: usize) {
        wait_for("the player's AU list", Duration::from_secs(20), || {
            browser.try_cmd("POST", "/frame", json!({ "id": null }));
            let Some(found) = browser.try_cmd("POST", "/element", json!({"using": "css selector", "value": format!("button[data-au=\"{index}\"]")}))
            else {
                return false;
            };
            let Some(id) = found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).map(str::to_string) else {
                return false;
            };
            // one click, even when the driver's answer fails: a click retried after it did land
            // launches the AU twice, and the first launch's session (the page that may still be
            // in the frame) is then superseded and its statements refused (403)
            browser.try_cmd("POST", &format!("/element/{id}/click"), json!({}));
            true
        });
    }

    /// Runs the mini AU where the AU was opened: the player's frame (AnyWindow) or a window
    /// of its own (OwnWindow). Returns its report.
    fn run_au(browser: &Browser, player: &str, own_window: bool, previous: &mut String) -> Value {
        let mut out = None;
        wait_for("the AU to load and run", Duration::from_secs(30), || {
            if own_window {
                let handles = browser.cmd("GET", "/window/handles", Value::Null);
                let handles: Vec<&str> = handles.as_array().unwrap().iter().filter_map(Value::as_str).collect();
                if let Some(au) = handles.iter().find(|h| **h != player) {
                    browser.cmd("POST", "/window", json!({ "handle": au }));
                }
                browser.try_cmd("POST", "/frame", json!({ "id": null }));
            } else {
                if browser.try_cmd("POST", "/frame", json!({ "id": null })).is_none() {
                    return false;
                }
                if browser.try_cmd("POST", "/frame", json!({ "id": 0 })).is_none() {
                    return false;
                }
            }
            let ready = browser.try_cmd(
                "POST",
                "/execute/sync",
                json!({"script": "return document.readyState === 'complete' && new URL(location.href).searchParams.has('fetch') ? location.href : null;", "args": []}),
            );
            // the page of this launch, not the previous AU's still in the frame
            match ready.as_ref().and_then(Value::as_str) {
                Some(href) if href != previous.as_str() => *previous = href.to_string(),
                _ => return false,
            }
            out = browser.try_cmd("POST", "/execute/async", json!({ "script": MINI_AU, "args": [] }));
            out.is_some()
        });
        let out = out.unwrap();
        if own_window {
            browser.cmd("DELETE", "/window", Value::Null);
            browser.cmd("POST", "/window", json!({ "handle": player }));
        }
        out
    }

    #[test]
    fn corpus_cmi5_packages_launch_and_satisfy_in_chromium() {
        if !tools() {
            return;
        }
        let Some(corpus) = corpus_cmi5() else { return };
        let data = tempfile::tempdir().unwrap();
        let (port, content_port) = (free_port(), free_port());
        let server = start_server(data.path(), port, content_port);
        let browser = Browser::start();
        browser.cmd("POST", "/timeouts", json!({ "script": 30_000 }));
        let mut packages: Vec<PathBuf> =
            std::fs::read_dir(&corpus).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("cmi5.xml").is_file()).collect();
        packages.sort();
        assert!(packages.len() >= 6, "the corpus has its cmi5 packages");
        for (n, package) in packages.iter().enumerate() {
            let name = package.file_name().unwrap().to_string_lossy().to_string();
            let (registration, cookie) = prepare(&server, package, &format!("C{n}"));
            let before = report(&server, &registration);
            assert_eq!(before["standard"], "cmi5", "{name}");
            open_player(&browser, &server, &registration, &cookie);
            let player = browser.cmd("GET", "/window", Value::Null).as_str().unwrap().to_string();
            let aus = before["aus"].as_array().unwrap().clone();
            let mut previous = String::new();
            for au in &aus {
                let index = au["index"].as_u64().unwrap() as usize;
                click_au(&browser, index);
                let out = run_au(&browser, &player, au["launch_method"] == "OwnWindow", &mut previous);
                assert_eq!(out["origin"], format!("http://127.0.0.1:{content_port}"), "{name} AU {index}: {out}");
                let file = package.join(out["path"].as_str().unwrap().rsplit('/').next().unwrap());
                assert!(file.is_file(), "{name} AU {index} is served at a path ending in its own file: {out}");
                for (step, status) in [("launchData", 200), ("prefs", 200), ("initialized", 200), ("completed", 200), ("passed", 200), ("terminated", 200)] {
                    assert_eq!(out[step], status, "{name} AU {index} {step}: {out}");
                }
            }
            let after = report(&server, &registration);
            assert_eq!(after["satisfied"], true, "{name}: {after}");
            assert!(after["aus"].as_array().unwrap().iter().all(|a| a["satisfied"] == true), "{name}: {after}");
            let r = http(
                server.port,
                "GET",
                &format!("/xapi/statements?registration={registration}&ascending=true&limit=500"),
                &[("Authorization", "Basic bHJzLWtleTpscnMtc2VjcmV0"), ("X-Experience-API-Version", "1.0.3")],
                b"",
            )
            .unwrap();
            assert_eq!(r.status, 200);
            let verbs: Vec<String> = r.json()["statements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["verb"]["id"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
                .collect();
            assert_eq!(verbs.first().map(String::as_str), Some("launched"), "{name}: {verbs:?}");
            assert_eq!(verbs.iter().filter(|v| *v == "launched").count(), aus.len(), "{name}: {verbs:?}");
            assert!(verbs.iter().any(|v| v == "satisfied"), "{name}: {verbs:?}");
        }
    }
}
