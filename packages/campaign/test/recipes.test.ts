import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  NoOperationTraceWriter,
  convertWorkflowTemplate,
  parseWorkflow,
} from '@actions/workflow-parser'
import { DockerfileParser } from 'dockerfile-ast'
import { validate as validateDockerfile } from 'dockerfile-utils'
import { Job, type IJob } from 'kubernetes-models/batch/v1/Job'
import {
  PersistentVolumeClaim,
  type IPersistentVolumeClaim,
} from 'kubernetes-models/v1/PersistentVolumeClaim'
import { Pod, type IPod } from 'kubernetes-models/v1/Pod'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments, parse as parseYaml } from 'yaml'

// The fleet recipes, checked offline: the workflow against GitHub's own workflow schema and
// expression parser (@actions/workflow-parser), the manifests against the Kubernetes API schemas
// (kubernetes-models), the Dockerfile with the Docker language service's validator; then what
// the schemas cannot know: that the pieces fit together (shard arguments, paths, names).

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const RECIPES = join(ROOT, 'packages/campaign/recipes')
const read = (path: string): string => readFileSync(join(RECIPES, path), 'utf8')
const PNPM = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { packageManager: string }
).packageManager

/** What `sh -c <script>` passes to the program it execs, with `env` set (`exec X` → `printf`). */
function shellArgs(script: string, env: Record<string, string>): string[] {
  const printing = script.replace(/^(exec )?node \S+/, "printf '%s\\n'")
  const run = spawnSync('sh', ['-c', printing], {
    env: { ...env, PATH: process.env.PATH },
    encoding: 'utf8',
  })
  expect(run.status, run.stderr).toBe(0)
  return run.stdout.trimEnd().split('\n')
}

interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string }
  spec: Record<string, unknown>
}

function manifests(file: string): K8sObject[] {
  return parseAllDocuments(read(file)).map((doc) => {
    expect(doc.errors).toEqual([])
    return doc.toJS() as K8sObject
  })
}

/** Validates against the API schema of its kind (throws with every violation). */
function validateK8s(object: K8sObject): void {
  const key = `${object.apiVersion} ${object.kind}`
  const data: unknown = object
  if (key === 'batch/v1 Job') new Job(data as IJob).validate()
  else if (key === 'v1 PersistentVolumeClaim')
    new PersistentVolumeClaim(data as IPersistentVolumeClaim).validate()
  else if (key === 'v1 Pod') new Pod(data as IPod).validate()
  else throw new Error(`no schema for ${key} in this test`)
}

interface PodSpec {
  restartPolicy: string
  containers: {
    name: string
    image: string
    args?: string[]
    env?: { name: string; value: string }[]
    volumeMounts?: { name: string; mountPath: string }[]
  }[]
  volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[]
}

const podSpec = (object: K8sObject): PodSpec =>
  object.kind === 'Pod'
    ? (object.spec as unknown as PodSpec)
    : (object.spec as { template: { spec: PodSpec } }).template.spec

describe('the Kubernetes recipe', () => {
  const shards = manifests('kubernetes/campaign.yaml')
  const merge = manifests('kubernetes/merge.yaml')

  it.each([...shards, ...merge].map((o) => [`${o.kind} ${o.metadata.name}`, o] as const))(
    '%s is valid against the Kubernetes API schema',
    (_, object) => {
      expect(() => {
        validateK8s(object)
      }).not.toThrow()
    }
  )

  it('the schema validator sees a broken Job', () => {
    const job = structuredClone(shards.find((o) => o.kind === 'Job'))
    if (job === undefined) throw new Error('no Job')
    job.spec.completionMode = 'Indexd'
    job.spec.parallelism = 'four'
    expect(() => {
      validateK8s(job)
    }).toThrow(/completionMode.*allowed values[\s\S]*parallelism must be integer/)
  })

  it('pod k runs shard k+1 of completions, writing where the merge reads', () => {
    const job = shards.find((o) => o.kind === 'Job')
    const claim = shards.find((o) => o.kind === 'PersistentVolumeClaim')
    if (job === undefined || claim === undefined) throw new Error('a Job and its claim')
    expect(job.spec.completionMode).toBe('Indexed')
    const completions = job.spec.completions as number
    expect(job.spec.parallelism).toBeLessThanOrEqual(completions)
    expect(claim.spec.accessModes).toContain('ReadWriteMany')
    const spec = podSpec(job)
    expect(spec.restartPolicy).toBe('Never')
    const [container] = spec.containers
    if (container === undefined) throw new Error('a container')
    const rules = (
      job.spec.podFailurePolicy as { rules: { onExitCodes?: { containerName: string } }[] }
    ).rules
    for (const rule of rules) {
      if (rule.onExitCodes) expect(rule.onExitCodes.containerName).toBe(container.name)
    }
    const shardsEnv = container.env?.find((e) => e.name === 'SHARDS')?.value
    expect(Number(shardsEnv)).toBe(completions)
    const outs = Array.from({ length: completions }, (_, index) => {
      const argv = shellArgs(container.args?.[0] ?? '', {
        JOB_COMPLETION_INDEX: String(index),
        SHARDS: shardsEnv ?? '',
      })
      expect(argv[argv.indexOf('--shard') + 1]).toBe(`${index + 1}/${completions}`)
      return argv[argv.indexOf('--out') + 1] ?? ''
    })
    expect(new Set(outs).size).toBe(completions)
    const mergeJob = merge.find((o) => o.kind === 'Job')
    if (mergeJob === undefined) throw new Error('a merge Job')
    const mergeArgv = shellArgs(podSpec(mergeJob).containers[0]?.args?.[0] ?? '', {})
    expect(mergeArgv.slice(0, 2)).toEqual(['merge', '/results/shards'])
    for (const out of outs) expect(dirname(out)).toBe(mergeArgv[1])
    // Every pod mounts the claim the Job writes to, under the same path, in the same image.
    for (const object of [job, ...merge]) {
      const pod = podSpec(object)
      for (const c of pod.containers) {
        expect(c.image).toBe(container.image)
        for (const mount of c.volumeMounts ?? []) {
          const volume = pod.volumes.find((v) => v.name === mount.name)
          expect(volume?.persistentVolumeClaim?.claimName).toBe(claim.metadata.name)
          expect(mount.mountPath).toBe('/results')
        }
      }
    }
  })
})

describe('the GitHub Actions recipe', () => {
  const text = read('github-actions/campaign.yml')

  async function workflowErrors(content: string): Promise<string[]> {
    const parsed = parseWorkflow({ name: 'campaign.yml', content }, new NoOperationTraceWriter())
    if (parsed.value !== undefined) await convertWorkflowTemplate(parsed.context, parsed.value)
    return parsed.context.errors.getErrors().map((e) => e.message)
  }

  it('is valid against GitHub’s workflow schema, expressions included', async () => {
    expect(await workflowErrors(text)).toEqual([])
  })

  it.each([
    [
      'an unknown key',
      'timeout-minutes: 360',
      'timeout-minute: 360',
      /Unexpected value 'timeout-minute'/,
    ],
    ['an unknown job', 'needs: [image, shard]', 'needs: [image, shards]', /unknown job 'shards'/],
    ['an unknown context', 'SHARD: ${{ matrix.shard }}', 'SHARD: ${{ matrx.shard }}', /matrx/],
  ])('the validator sees %s', async (_, from, to, error) => {
    expect(text).toContain(from)
    expect((await workflowErrors(text.replace(from, to))).join('\n')).toMatch(error)
  })

  it('shards run in a matrix that a failing shard does not cancel, and the merge always runs', () => {
    const workflow = parseYaml(text) as {
      jobs: Record<
        string,
        {
          needs?: string[] | string
          if?: string
          strategy?: Record<string, unknown>
          steps: { uses?: string; with?: Record<string, unknown> }[]
        }
      >
    }
    const { shard, merge } = workflow.jobs
    if (shard === undefined || merge === undefined) throw new Error('shard and merge jobs')
    expect(shard.strategy?.['fail-fast']).toBe(false)
    expect(merge.needs).toContain('shard')
    expect(merge.if).toMatch(/!cancelled\(\)/)
    const uploaded = shard.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))
    const downloaded = merge.steps.find((s) => s.uses?.startsWith('actions/download-artifact'))
    const pattern = new RegExp(`^${String(downloaded?.with?.pattern).replace('*', '.*')}$`)
    expect(String(uploaded?.with?.name).replace('${{ matrix.shard }}', '3')).toMatch(pattern)
    expect(text).toContain('file: packages/campaign/recipes/Dockerfile')
  })
})

describe('the container image', () => {
  const text = read('Dockerfile')

  it('has no findings from the Dockerfile validator, which sees a broken one', () => {
    expect(validateDockerfile(text)).toEqual([])
    expect(validateDockerfile(text.replace('FROM node', 'FRM node')).length).toBeGreaterThan(0)
  })

  it('is Node 20 with the locked install through npx pnpm (never corepack), running vtl-campaign', () => {
    const instructions = DockerfileParser.parse(text).getInstructions()
    const args = (keyword: string) =>
      instructions
        .filter((i) => i.getKeyword() === keyword)
        .map((i) => i.getArgumentsContent() ?? '')
    expect(args('FROM')).toEqual([expect.stringMatching(/^node:20(-|$)/)])
    expect(args('RUN')).toContain(`npx -y ${PNPM} install --frozen-lockfile`)
    expect(text).not.toMatch(/corepack/i)
    const [entrypoint] = args('ENTRYPOINT')
    const [, script] = JSON.parse(entrypoint ?? '[]') as string[]
    expect(existsSync(join(ROOT, script ?? 'missing'))).toBe(true)
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')
    expect(ignored).toEqual(expect.arrayContaining(['.git', '**/node_modules']))
  })
})
