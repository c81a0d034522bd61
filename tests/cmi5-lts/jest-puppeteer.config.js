// Browser settings for the cmi5 LMS test suite when run by run.sh: the suite's own file opens
// Chromium with DevTools (`devtools: true`), which resizes the page while a test clicks the
// 008-1 AU's "abandon" button and sometimes makes the click miss (no statement is sent, the
// test times out). Headless without DevTools clicks reliably. Nothing else changes; with
// CI=true jest-puppeteer still adds --no-sandbox.
module.exports = {
    launch: {
        headless: true,
        devtools: false,
    },
};
