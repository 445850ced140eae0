/**
 * CPU time a process has used, read from /proc (Linux). The throughput suite reads it around every sample: CPU
 * microseconds per request are what a mode costs, whatever else the machine was doing. On a shared host the req/s of
 * one sample swings with the neighbours (steal time), while the CPU a request takes barely moves.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let ticksPerSecond: number | undefined

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** User + system CPU time of `pid` so far, in µs; null where /proc is not available. */
function processCpuMicros(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces): state is field 3, utime 14 and stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks()
  } catch {
    return null
  }
}

/** Summed CPU µs of several processes; null when any cannot be read. */
export function cpuMicrosOf(pids: readonly number[]): number | null {
  let total = 0
  for (const pid of pids) {
    const micros = processCpuMicros(pid)
    if (micros === null) return null
    total += micros
  }
  return total
}
