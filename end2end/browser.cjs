// Shared set-up for the browser tests: Debian's Chromium driven by playwright-core.
// `make test` starts the release build and passes its address in ANGEL_E2E_URL.
// Playwright gives every launch a fresh, temporary user-data directory of its own.
'use strict';
const { chromium } = require('playwright-core');

const BASE = process.env.ANGEL_E2E_URL;
if (!BASE) throw new Error('ANGEL_E2E_URL is not set: run the browser tests through `make test`');

function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/// Retries `check` until it returns true or `ms` pass.
async function eventually(check, ms = 30000, every = 250) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, every));
  }
}

/// Signs in as a demo account (its password is listed on the sign-in page of a demo database)
/// and waits for the account's home page.
async function signInAs(page, username, home) {
  await page.goto(`${BASE}/entrar`);
  const row = page.locator('section.demo tr', { hasText: username });
  const password = (await row.locator('td').nth(1).innerText()).trim();
  await page.fill('#f-username', username);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForURL(`${BASE}${home}`), page.click('form[action="/entrar"] button')]);
}

/// Signs in as the demo caseworker and waits for the office page.
async function signInAsCaseworker(page) {
  await signInAs(page, 'demo.trabajo', '/oficina');
}

/// A surname of this run only (the demo database outlives a test run), in letters: a name with
/// digits is refused, and base 36 of the clock has them.
function runSurname() {
  const stamp = [...Date.now().toString(26)].map((c) => String.fromCharCode(97 + parseInt(c, 26))).join('');
  return `Prueba${stamp}`;
}

/// Clicks a submit button of a plain (non-JavaScript) form and waits until the POST was answered
/// and the page it leads to has loaded. The listener for the *next* load event is set up before
/// the click: `waitForLoadState('load')` returns at once on the page being left, and a reload
/// issued then races the navigation still under way.
async function submitAndLoad(page, pathPart, click) {
  await Promise.all([
    page.waitForEvent('load'),
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes(pathPart)),
    click(),
  ]);
}

/// Waits until the intake form open in `page` has hydrated: its CURP field names the failing
/// rule while typing only then. Values typed into the server-rendered form before hydration
/// could be lost when the form's suspense hydrates.
async function intakeHydrated(page) {
  const live = await eventually(async () => {
    await page.fill('#f-curp', 'X');
    return (await page.locator('#f-curp-error').innerText()).trim() !== '';
  });
  if (!live) throw new Error('the intake form never hydrated');
  await page.fill('#f-curp', '');
}

/// Fills the intake page already open (once it has hydrated) for someone born in Mexico City
/// and living in Iztapalapa, without a CURP; `person.sex` defaults to M.
async function fillIntake(page, person) {
  await intakeHydrated(page);
  await page.fill('#f-given_names', person.given);
  await page.fill('#f-first_surname', person.first);
  await page.fill('#f-second_surname', person.second);
  await page.fill('#f-birth_date', person.birth);
  await page.selectOption('#f-sex', person.sex || 'M');
  await page.selectOption('#f-birth_state', 'DF');
  await page.selectOption('#f-borough', '09007');
  await page.fill('#f-colonia', 'Santa Cruz Meyehualco');
  await page.fill('#f-postal_code', '09290');
}

/// Registers someone from the intake page already open (see [`fillIntake`]); returns their id.
async function register(page, person) {
  await fillIntake(page, person);
  await submitAndLoad(page, '/oficina/personas/nueva', () => page.click('form.intake button[type="submit"]:not([name])'));
  const done = page.url().match(/\/oficina\/persona\/(\d+)$/);
  if (!done) {
    const fields = await page.locator('.field.invalid :is(input, select)').evaluateAll((els) => els.map((e) => e.id));
    throw new Error(`not registered: ${page.url()} invalid: ${fields} ${await page.locator('.field-error, .notice').allInnerTexts()}`);
  }
  return Number(done[1]);
}

module.exports = { BASE, launch, eventually, signInAs, signInAsCaseworker, submitAndLoad, runSurname, fillIntake, register };
