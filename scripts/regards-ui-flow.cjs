// Drives REGARDS' own admin web client (regards-frontend, served by webpack) against the demo
// stack, in Debian's Chromium through playwright-core: log in as the demo's PROJECT_ADMIN of
// project1, create the role NOTIFIER_OPERATOR under REGISTERED_USER, grant it rs-notifier's
// `PUT /rule` in the resource-access screen, check with curl that the operator's token now gets
// 200 at rs-notifier, revoke it, check 403. Any console error, page error, failed request or
// 4xx/5xx answer from the demo along the way fails the run, but for the few listed in IGNORED.
//
// Run by scripts/regards-ui.sh, which sets:
//   UI_URL (the web client), API_URL (the demo), SHOT_DIR (screenshots), CHROMIUM (binary),
//   NODE_PATH (where playwright-core is installed).
'use strict'

const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { chromium } = require('playwright-core')

const UI = process.env.UI_URL
const API = process.env.API_URL
const SHOTS = process.env.SHOT_DIR
const PROJECT = 'project1'
const ROLE = 'NOTIFIER_OPERATOR'
/** Every wait of a step is bounded by this. */
const STEP_TIMEOUT_MS = 60_000

/**
 * What the run tolerates, each with the reason. Anything else from the console, the page or
 * the network fails it.
 */
const IGNORED = [
  {
    what: 'answer',
    text: /^GET http:\/\/[^/]+\/admin\/.*img\/logo_regards_grey_black\.png: 404$/,
    why: "the client's own favicon: a project without an icon gets 'img/logo_regards_grey_black.png', relative to the page, which its dev server does not serve below /admin/ (a front-end asset, no demo endpoint)",
  },
  {
    what: 'console',
    text: /^Failed to load resource: the server responded with a status of 404 \(Not Found\)$/,
    where: /\/admin\/.*img\/logo_regards_grey_black\.png$/,
    why: 'the same favicon, as the console reports it',
  },
  {
    what: 'console',
    text: /^Warning: Each child in a list should have a unique "key" prop[^]*Check the render method of `ResourceAccessModalOverviewComponent`/,
    why: "React's development build warns that REGARDS' ResourceAccessModalOverviewComponent lists its role chips without a key (the key is set inside RoleChipComponent)",
  },
  {
    what: 'console',
    text: /^Toggle resource$/,
    why: "REGARDS' ResourceToggleComponent writes this with console.error on every toggle (a debug line left in, not an error)",
  },
]

const problems = []
const steps = []
const startedAt = Date.now()

function ignored(what, text, where) {
  return IGNORED.some((rule) => rule.what === what && rule.text.test(text)
    && (!rule.where || rule.where.test(where)))
}

function note(what, text, where = '') {
  if (!ignored(what, text, where)) {
    problems.push(`${what}: ${text}${where && ` [${where}]`}`)
  }
}

async function step(name, run) {
  const started = Date.now()
  await run()
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  steps.push(`${name}: ${seconds} s`)
  console.log(`ok   ${name} (${seconds} s)`)
}

function curl(args) {
  return execFileSync('curl', ['-sS', '--max-time', '10', ...args], { encoding: 'utf8' })
}

/** The operator's token from the demo's token endpoint, as the README's curl gets it. */
function operatorToken() {
  const query = new URLSearchParams({
    grant_type: 'password', scope: PROJECT, username: 'operator@regards.fr', password: 'operator',
  })
  const answer = curl(['-X', 'POST', `${API}/api/v1/rs-authentication/oauth/token?${query}`,
    '-H', 'Authorization: Basic Y2xpZW50OnNlY3JldA==', '-H', 'Accept: application/json'])
  return JSON.parse(answer).access_token
}

/** The status of `PUT /rule` at the demo's rs-notifier with the operator's token. */
function operatorPutsRule() {
  const status = curl(['-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT',
    `${API}/api/v1/rs-notifier/rule`, '-H', `Authorization: Bearer ${operatorToken()}`,
    '-H', 'Content-Type: application/json', '--data', '{"name":"from-the-ui-flow"}'])
  return Number(status)
}

/** Waits for the demo's answer to `method` on a path ending with `suffix`, started by `action`. */
async function answerTo(page, method, suffix, action) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === method
      && new URL(r.url()).pathname.endsWith(suffix), { timeout: STEP_TIMEOUT_MS }),
    action(),
  ])
  return response
}

function expectStatus(response, expected) {
  if (response.status() !== expected) {
    throw new Error(`${response.request().method()} ${response.url()}: ${response.status()}, expected ${expected}`)
  }
}

/** Whether the script is loading a page (see the requestfailed listener). */
let loading = false

async function load(page, url) {
  loading = true
  try {
    await page.goto(url, { timeout: STEP_TIMEOUT_MS })
  } finally {
    loading = false
  }
}

async function shot(page, name) {
  const file = path.join(SHOTS, name)
  await page.screenshot({ path: file })
  console.log(`     screenshot ${file}`)
}

/** rs-notifier's `PUT /rule` in the opened RuleController list: the innermost element that
 * holds both its path and its verb. */
function putRule(page) {
  return page.locator('div', { has: page.getByText('/rule', { exact: true }) })
    .filter({ has: page.getByText('PUT', { exact: true }) }).last()
}

function putRuleToggle(page) {
  return putRule(page).locator('button').filter({ has: page.locator('input[type="checkbox"]') }).first()
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: STEP_TIMEOUT_MS,
  })
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  page.setDefaultTimeout(STEP_TIMEOUT_MS)
  page.on('console', (message) => {
    if (message.type() === 'error') note('console', message.text(), message.location()?.url)
  })
  page.on('pageerror', (error) => note('page', String(error)))
  page.on('requestfailed', (request) => {
    const error = request.failure()?.errorText
    // A page load cancels the requests of the page before it: not a failure of the demo.
    if (!(loading && error === 'net::ERR_ABORTED')) note('request', `${request.method()} ${request.url()}: ${error}`)
  })
  page.on('response', (response) => {
    if (response.status() >= 400) {
      note('answer', `${response.request().method()} ${response.url()}: ${response.status()}`)
    }
  })

  try {
    await step('login form shown', async () => {
      await load(page, `${UI}/admin/${PROJECT}`)
      await page.locator('input[type="password"]').waitFor()
    })
    await step('logged in, admin dashboard shown', async () => {
      await page.locator('input[type="text"]').first().fill('admin@regards.fr')
      await page.locator('input[type="password"]').fill('admin')
      const resources = page.waitForResponse((r) => r.url().includes('/rs-admin-public/resources'))
      const token = await answerTo(page, 'POST', '/oauth/token', () => page.locator('button[type="submit"]').click())
      expectStatus(token, 200)
      expectStatus(await resources, 200)
      await page.waitForLoadState('networkidle', { timeout: STEP_TIMEOUT_MS })
    })
    await step('role list shown', async () => {
      const roles = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/rs-admin/roles'))
      await load(page, `${UI}/admin/${PROJECT}/user/role/list`)
      expectStatus(await roles, 200)
      await page.getByText('Role list').first().waitFor()
    })
    await step(`${ROLE} created under REGISTERED_USER`, async () => {
      await page.getByRole('button', { name: 'Add' }).first().click()
      await page.getByText('Inherits from').first().waitFor()
      await page.locator('input[name="name"]').fill(ROLE)
      // Material-UI 0.x's select: a click on the field opens a menu of plain items.
      await page.locator('label', { hasText: 'Inherits from' }).locator('..').click()
      await page.getByText('Registered user', { exact: true }).last().click()
      // The menu closes with an animation before the button takes clicks.
      await page.waitForTimeout(500)
      const created = await answerTo(page, 'POST', '/rs-admin/roles',
        () => page.getByRole('button', { name: 'Save' }).click())
      expectStatus(created, 201)
      await page.getByText(ROLE, { exact: true }).first().waitFor()
      await page.waitForLoadState('networkidle', { timeout: STEP_TIMEOUT_MS })
      await shot(page, 'role-list.png')
    })
    await step(`${ROLE}'s resource access opened on rs-notifier's RuleController`, async () => {
      const row = page.locator('tr', { has: page.getByText(ROLE, { exact: true }) })
      await row.locator('button[title="Configure resources access"]').click()
      const controllers = await answerTo(page, 'GET', '/resources/microservices/rs-notifier/controllers',
        () => page.getByText('rs-notifier', { exact: true }).click())
      expectStatus(controllers, 200)
      const resources = await answerTo(page, 'GET', '/resources/microservices/rs-notifier/controllers/RuleController',
        () => page.getByText('RuleController', { exact: true }).click())
      expectStatus(resources, 200)
      await page.getByText('/rule', { exact: true }).first().waitFor()
    })
    await step('PUT /rule switched on: the operator gets 200', async () => {
      const granted = await answerTo(page, 'POST', `/roles/${ROLE}/resources`, () => putRuleToggle(page).click())
      expectStatus(granted, 201)
      await page.waitForLoadState('networkidle', { timeout: STEP_TIMEOUT_MS })
      await shot(page, 'resource-access.png')
      const status = operatorPutsRule()
      if (status !== 200) throw new Error(`the operator's PUT /rule got ${status}, expected 200`)
    })
    await step(`the roles that may call PUT /rule listed, ${ROLE} among them`, async () => {
      const roles = await answerTo(page, 'GET', '', async () => {
        await putRule(page).getByRole('button', { name: 'More information' }).click()
      })
      if (!/\/rs-admin\/roles\/resources\/[0-9]+$/.test(new URL(roles.url()).pathname)) {
        throw new Error(`More information called ${roles.url()}`)
      }
      expectStatus(roles, 200)
      // Material-UI 0.x's dialog has no dialog role: its text marks it.
      const dialog = page.getByText('Is also available for')
      await dialog.waitFor()
      await page.getByText(ROLE, { exact: true }).waitFor()
      await shot(page, 'resource-roles.png')
      await page.getByRole('button', { name: 'Back' }).last().click()
      await dialog.waitFor({ state: 'hidden' })
    })
    await step('PUT /rule switched off: the operator gets 403', async () => {
      const revoked = await answerTo(page, 'DELETE', '', () => putRuleToggle(page).click())
      expectStatus(revoked, 204)
      await page.waitForLoadState('networkidle', { timeout: STEP_TIMEOUT_MS })
      const status = operatorPutsRule()
      if (status !== 403) throw new Error(`the operator's PUT /rule got ${status}, expected 403`)
    })
  } catch (error) {
    await page.screenshot({ path: path.join(SHOTS, 'failure.png') }).catch(() => {})
    problems.push(`step failed: ${error.message.split('\n')[0]} (see ${path.join(SHOTS, 'failure.png')})`)
  } finally {
    await browser.close()
  }

  console.log(`flow: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`)
  for (const rule of IGNORED) console.log(`ignored ${rule.what} ${rule.text}${rule.where ? ` at ${rule.where}` : ''}: ${rule.why}`)
  if (problems.length) {
    for (const problem of problems) console.log(`FAIL ${problem}`)
    process.exit(1)
  }
  console.log('no console error, page error, failed request or refused call along the flow')
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
