// Import cost: each (package, module system) pair in its own fresh process, rotating order, median of N runs.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { mad, median, ms, ratio, table } from './stats.mjs'
import { alternatives } from './scratch.mjs'

// exit-hook 5 ships ESM only, so it has no require() row
const esmOnly = new Set(['exit-hook'])

// `node`: the binary the children run on (Nodejs18.15's exact binary for the SCF row); `packages`: a subset
// the before/after row of BENCH_COMPARE_DIR (scratch.mjs), never an alternative
const isOurs = (name) => name === 'scf-graceful' || name === 'scf-graceful-compare'
const labelOf = (scratch, name) => (name === 'scf-graceful-compare' ? `scf-graceful@${scratch.version(name)} (BENCH_COMPARE_DIR build)` : `${name}@${scratch.version(name)}`)

export function measureImportCost(scratch, { runs = 30, minRuns = 10, budgetMs = 90_000, log = console.error, node = process.execPath, packages = ['scf-graceful', ...(scratch.compare ? ['scf-graceful-compare'] : []), ...alternatives, 'empty-exports'] } = {}) {
  const started = Date.now()
  const cases = []
  for (const name of packages) {
    cases.push({ name, mode: 'esm' })
    if (!esmOnly.has(name)) cases.push({ name, mode: 'cjs' })
  }
  const samples = new Map(cases.map((c) => [`${c.name}:${c.mode}`, []]))
  const cpu = new Map(cases.map((c) => [`${c.name}:${c.mode}`, []]))
  let done = 0
  for (let round = 0; round < runs; round++) {
    // a loaded machine makes every spawn slow: stop early (after minRuns) rather than run for many minutes
    if (round >= minRuns && Date.now() - started > budgetMs) {
      log(`  import cost: time budget of ${budgetMs / 1000} s spent, stopping after ${round} rounds`)
      break
    }
    // rotate so no package always runs first (cold page cache) or right after a heavy one
    for (let i = 0; i < cases.length; i++) {
      const { name, mode } = cases[(i + round) % cases.length]
      const child = join(scratch.dir, mode === 'esm' ? 'import-esm.mjs' : 'import-cjs.cjs')
      const out = execFileSync(node, [child, name], { cwd: scratch.dir, encoding: 'utf8', timeout: 30_000 })
      const [wallNs, cpuUs] = out.trim().split(' ').map(Number)
      samples.get(`${name}:${mode}`).push(wallNs)
      cpu.get(`${name}:${mode}`).push(cpuUs * 1000)
    }
    done = round + 1
    if ((round + 1) % 10 === 0) log(`  import cost: ${round + 1}/${runs} rounds`)
  }

  const results = cases.map(({ name, mode }) => {
    const s = samples.get(`${name}:${mode}`)
    return { name, mode, median: median(s), mad: mad(s), cpu: median(cpu.get(`${name}:${mode}`)), version: scratch.version(name) }
  })
  if (packages.length <= 2) {
    // the SCF-runtime row: ours against the floor only
    const floorOf = (mode) => results.find((r) => r.name === 'empty-exports' && r.mode === mode)?.median ?? 0
    const rows = results.filter((r) => r.name !== 'empty-exports').map((r) => [labelOf(scratch, r.name), r.mode === 'esm' ? '`import`' : '`require`', ms(r.median), ms(r.mad), ms(Math.max(0, r.median - floorOf(r.mode))), ms(r.cpu)])
    return { results, markdown: table(['package', 'how', 'median ms', 'MAD ms', 'above floor ms', 'median CPU ms'], rows), runs: done }
  }
  const alternativesOf = (mode) => results.filter((r) => r.mode === mode && !isOurs(r.name) && r.name !== 'empty-exports')
  const cheapest = (mode) => Math.min(...alternativesOf(mode).map((r) => r.median))
  const cheapestCpu = (mode) => Math.min(...alternativesOf(mode).map((r) => r.cpu))
  const floor = (mode) => results.find((r) => r.name === 'empty-exports' && r.mode === mode).median
  const rows = results.map((r) => {
    const label = r.name === 'empty-exports' ? '(floor: empty package with an exports map)' : labelOf(scratch, r.name)
    return [label, r.mode === 'esm' ? '`import`' : '`require`', ms(r.median), ms(r.mad), ms(Math.max(0, r.median - floor(r.mode))), ratio(r.median, cheapest(r.mode)), ms(r.cpu), ratio(r.cpu, cheapestCpu(r.mode))]
  })
  const goal = ['esm', 'cjs'].map((mode) => {
    const ours = results.find((r) => r.name === 'scf-graceful' && r.mode === mode).median
    const best = cheapest(mode)
    const oursCpu = results.find((r) => r.name === 'scf-graceful' && r.mode === mode).cpu
    return { mode, ours, best, ratio: ours / best, met: ours <= best * 1.1, cpuRatio: oursCpu / cheapestCpu(mode) }
  })
  const markdown = table(['package', 'how', 'median ms', 'MAD ms', 'above floor ms', 'vs cheapest alternative', 'median CPU ms', 'CPU vs cheapest'], rows)
  return { results, goal, markdown, runs: done }
}

// The cold path of a CommonJS code deployment (children/cold-cjs.cjs): require, wrap the handler, one invocation.
// Only the packages a code deployment would choose between: this one and the two zero-dependency peers.
export function measureColdPath(scratch, { runs = 30, minRuns = 10, budgetMs = 60_000, node = process.execPath, log = console.error } = {}) {
  const started = Date.now()
  const names = ['scf-graceful', ...(scratch.compare ? ['scf-graceful-compare'] : []), 'close-with-grace', 'async-exit-hook', 'empty-exports']
  const wall = new Map(names.map((n) => [n, []]))
  const cpu = new Map(names.map((n) => [n, []]))
  let done = 0
  for (let round = 0; round < runs; round++) {
    if (round >= minRuns && Date.now() - started > budgetMs) {
      log(`  cold path: time budget of ${budgetMs / 1000} s spent, stopping after ${round} rounds`)
      break
    }
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]
      const out = execFileSync(node, [join(scratch.dir, 'cold-cjs.cjs'), name], { cwd: scratch.dir, encoding: 'utf8', timeout: 30_000 })
      const [wallNs, cpuUs] = out.trim().split(' ').map(Number)
      wall.get(name).push(wallNs)
      cpu.get(name).push(cpuUs * 1000)
    }
    done = round + 1
  }
  const med = (m, n) => median(m.get(n))
  const peers = ['close-with-grace', 'async-exit-hook']
  const best = Math.min(...peers.map((n) => med(wall, n)))
  const bestCpu = Math.min(...peers.map((n) => med(cpu, n)))
  const rows = names.map((n) => [
    n === 'empty-exports' ? '(floor: `require` of an empty package, a bare async handler)' : labelOf(scratch, n),
    ms(med(wall, n)),
    ms(mad(wall.get(n))),
    ratio(med(wall, n), best),
    ms(med(cpu, n)),
    ratio(med(cpu, n), bestCpu),
  ])
  const markdown = table(['package', 'median ms', 'MAD ms', 'vs cheapest peer', 'median CPU ms', 'CPU vs cheapest peer'], rows)
  return { markdown, runs: done, ratio: med(wall, 'scf-graceful') / best, cpuRatio: med(cpu, 'scf-graceful') / bestCpu }
}
