// The LMS side of ADL's cmi5 LMS test suite (adlnet/CATAPULT, folder lts/): the functions
// the suite calls to import a course, get a launch URL, waive an AU and abandon a session,
// implemented over this LMS's HTTP API. See README.md beside this file for how to run it.
//
// Settings (environment):
//   LMS_URL            the server's main origin (default http://127.0.0.1:8080)
//   LMS_ADMIN_TOKEN    bearer token of an admin (`lms serve` creates one from the same variable)
//   LMS_LRS_BASIC      key:secret of an LRS client with scope "all" (same variable as `lms serve`)
//   LMS_LTS_LEARNER    personnel number of the learner the registrations belong to (default cmi5-lts)
//   CATAPULT_LTS_DIR   the suite's lts/ folder (default: the working directory, where jest runs)
"use strict";

const http = require("http");
const https = require("https");
const path = require("path");

// The suite checks `instanceof InvalidPackageError`, so the class must come from its own file.
const {InvalidPackageError} = require(path.join(process.env.CATAPULT_LTS_DIR || process.cwd(), "lib", "errors"));

const LMS_URL = (process.env.LMS_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
const ADMIN_TOKEN = process.env.LMS_ADMIN_TOKEN || "";
const LRS_BASIC = process.env.LMS_LRS_BASIC || "";
const LEARNER = process.env.LMS_LTS_LEARNER || "cmi5-lts";

function request(method, url, {headers = {}, body} = {}) {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
        const req = client.request(target, {method, headers}, (res) => {
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => resolve({status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks)}));
            res.on("error", reject);
        });
        req.on("error", reject);
        if (body !== undefined) {
            req.write(body);
        }
        req.end();
    });
}

async function api(method, pathname, json) {
    const headers = {Authorization: `Bearer ${ADMIN_TOKEN}`};
    let body;
    if (json !== undefined) {
        body = Buffer.from(JSON.stringify(json));
        headers["Content-Type"] = "application/json";
        headers["Content-Length"] = String(body.length);
    }
    const response = await request(method, `${LMS_URL}${pathname}`, {headers, body});
    let parsed = null;
    try {
        parsed = JSON.parse(response.body.toString("utf8") || "null");
    }
    catch (ex) {
        parsed = {error: response.body.toString("utf8")};
    }
    return {status: response.status, json: parsed};
}

function fail(what, response) {
    return new Error(`${what}: HTTP ${response.status} ${JSON.stringify(response.json)}`);
}

async function readAll(stream) {
    const chunks = [];
    for await (const chunk of stream) {
        chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
}

module.exports = {
    setup: async () => {
        if (!ADMIN_TOKEN) {
            throw new Error("set LMS_ADMIN_TOKEN (the admin bearer token `lms serve` was started with)");
        }
        if (!LRS_BASIC.includes(":")) {
            throw new Error("set LMS_LRS_BASIC=key:secret (the LRS client `lms serve` was started with)");
        }
        const created = await api("POST", "/api/people", {personnel_number: LEARNER, name: "CATAPULT LTS learner", roles: ["learner"]});
        if (created.status !== 201 && created.status !== 409) {
            throw fail(`creating the learner ${LEARNER}`, created);
        }
    },

    teardown: async () => {},

    getLrsEndpoint: () => `${LMS_URL}/xapi`,

    getLrsAuthHeader: () => `Basic ${Buffer.from(LRS_BASIC).toString("base64")}`,

    // The package is buffered (the server takes a plain body) and sent as a zip or, for a
    // bare cmi5.xml, as text/xml. A refusal of the package itself (4xx) is an InvalidPackageError.
    importCourse: async (stream, contentType, filename) => {
        const body = await readAll(stream);
        const response = await request("POST", `${LMS_URL}/api/packages`, {
            headers: {
                Authorization: `Bearer ${ADMIN_TOKEN}`,
                "Content-Type": contentType,
                "Content-Length": String(body.length),
            },
            body,
        });
        const text = response.body.toString("utf8");
        if (response.status === 200 || response.status === 201) {
            return JSON.parse(text).id;
        }
        if (response.status === 400 || response.status === 413 || response.status === 415 || response.status === 422) {
            throw new InvalidPackageError(`${filename}: HTTP ${response.status} ${text}`);
        }
        throw new Error(`importing ${filename}: HTTP ${response.status} ${text}`);
    },

    // A new registration of the learner (with the suite's actor) unless one is given, then a
    // launch of AU number `auIndex` in it.
    getLaunchUrl: async (courseId, auIndex, actor, {registration, launchMode} = {}) => {
        let registrationId = registration;
        if (!registrationId) {
            const created = await api("POST", "/api/registrations", {package_id: courseId, personnel_number: LEARNER, actor});
            if (created.status !== 201) {
                throw fail("creating a registration", created);
            }
            registrationId = created.json.id;
        }
        const body = {au: auIndex};
        if (launchMode) {
            body.launch_mode = launchMode;
        }
        const launched = await api("POST", `/api/registrations/${registrationId}/launch`, body);
        if (launched.status !== 201) {
            throw fail(`launching AU ${auIndex}`, launched);
        }
        return launched.json.url;
    },

    cleanup: async () => {},

    hasWaive: () => true,

    waiveAU: async (registration, auIndex, reason) => {
        const waived = await api("POST", `/api/registrations/${registration}/waive`, {au: auIndex, reason});
        if (waived.status !== 200) {
            throw fail(`waiving AU ${auIndex}`, waived);
        }
    },

    hasAbandon: () => true,

    abandonSession: async (sessionId) => {
        const abandoned = await api("POST", `/api/cmi5/sessions/${sessionId}/abandon`);
        if (abandoned.status !== 200) {
            throw fail(`abandoning session ${sessionId}`, abandoned);
        }
    },
};
