/** How big a generated assembly line is, and how it is split. */
export interface GenerateLineOptions {
  readonly jobs: number;
  readonly resources: number;
  /** Number of `*.causeway.yml` files the line is spread over (default 10). */
  readonly files?: number;
  /** Seed of the random DAG (default 1): the same options always give the same text. */
  readonly seed?: number;
}

/** A generated pipeline file, path relative to the line's directory. */
export interface GeneratedFile {
  readonly path: string;
  readonly text: string;
}

/** A generated line and what the loader must find in it. */
export interface GeneratedLine {
  readonly files: readonly GeneratedFile[];
  /** What `causeway validate` must report: distinct names, IN/OUT steps. */
  readonly expected: { readonly resources: number; readonly jobs: number; readonly edges: number };
}

const RESOURCE_KINDS = [
  { type: "gitRepo", prefix: "repo" },
  { type: "params", prefix: "params" },
  { type: "image", prefix: "img" },
  { type: "state", prefix: "state" },
  { type: "time", prefix: "timer" },
] as const;

// How far back a job looks for its upstream jobs and input images: keeps the DAG deep (long
// chains) rather than a flat fan-in onto the first jobs.
const WINDOW = 200;

/**
 * Generates a realistic assembly line, deterministically: resources of types gitRepo, params,
 * image, state and time; runSh jobs with IN resources, IN upstream jobs (a random DAG, up to 3
 * parents, some `switch: off`), OUT images, state both IN and OUT, 2–3 line TASK scripts and
 * on_success / on_failure hooks. Every resource is used (no orphan) and names never share an
 * environment-variable prefix, so the line validates with no diagnostic at all. Pure.
 */
export function generateLine(options: GenerateLineOptions): GeneratedLine {
  const { jobs, resources } = options;
  const fileCount = Math.max(1, Math.min(options.files ?? 10, Math.max(jobs, resources)));
  if (!Number.isInteger(jobs) || !Number.isInteger(resources) || jobs < 1 || resources < 0)
    throw new RangeError(`jobs must be a positive integer and resources a non-negative one`);
  const random = mulberry32(options.seed ?? 1);
  const width = String(Math.max(jobs, resources)).length;
  const pad = (n: number): string => String(n).padStart(width, "0");
  const resourceName = (i: number): string => `${kindOf(i).prefix}-${pad(i)}`;
  const jobName = (j: number): string => `job-${pad(j)}`;
  const isImage = (i: number): boolean => kindOf(i).type === "image";

  // Resource i belongs to job i % jobs: IN for most types, OUT for an image (the job builds
  // it), IN and OUT for state. Later jobs may take an earlier job's image as input.
  const owned: number[][] = Array.from({ length: jobs }, () => []);
  for (let i = 0; i < resources; i++) owned[i % jobs]?.push(i);

  const resourceText = (i: number): string => {
    const name = resourceName(i);
    const n = pad(i);
    switch (kindOf(i).type) {
      case "gitRepo":
        return [
          `  - name: ${name}`,
          `    type: gitRepo`,
          `    integration: github`,
          `    versionTemplate:`,
          `      sourceName: causeway-bench/service-${n}`,
          `      branch: ${i % 3 === 0 ? "main" : "release"}`,
          ...(i % 7 === 0 ? [`    flags:`, `      - team-${i % 4}`] : []),
        ].join("\n");
      case "params":
        return [
          `  - name: ${name}`,
          `    type: params`,
          `    versionTemplate:`,
          `      params:`,
          `        SERVICE: service-${n}`,
          `        PORT: ${8000 + (i % 1000)}`,
          `        DEBUG: ${i % 2 === 0 ? "true" : "false"}`,
        ].join("\n");
      case "image":
        return [
          `  - name: ${name}`,
          `    type: image`,
          `    integration: registry`,
          `    versionTemplate:`,
          `      sourceName: registry.example.com/service-${n}`,
          `      versionName: "1.0.${i}"`,
        ].join("\n");
      case "state":
        return [`  - name: ${name}`, `    type: state`].join("\n");
      default:
        return [
          `  - name: ${name}`,
          `    type: time`,
          `    versionTemplate:`,
          `      interval: "${i % 60} ${i % 24} * * *"`,
        ].join("\n");
    }
  };

  let edges = 0;
  const jobText = (j: number): string => {
    const name = jobName(j);
    const steps: string[] = [];
    const outs: string[] = [];
    for (const i of owned[j] ?? []) {
      const r = resourceName(i);
      const type = kindOf(i).type;
      if (type === "image") {
        outs.push(`      - OUT: ${r}`);
        continue;
      }
      steps.push(`      - IN: ${r}`);
      if (type === "params" && i % 3 === 0) steps.push(`        switch: off`);
      if (type === "state") outs.push(`      - OUT: ${r}`);
    }
    // An image built by an earlier job: i < j's own resources, so the DAG stays acyclic.
    if (j > 0 && random() < 0.4) {
      const from = Math.max(0, j - WINDOW);
      let image: number | undefined;
      for (let k = from + Math.floor(random() * (j - from)); k >= from && image === undefined; k--)
        image = (owned[k] ?? []).find(isImage);
      if (image !== undefined) {
        steps.push(`      - IN: ${resourceName(image)}`);
        if (random() < 0.5) steps.push(`        switch: off`);
      }
    }
    const parents = new Set<number>();
    const wanted = j === 0 ? 0 : Math.floor(random() * 4);
    for (let t = 0; t < wanted; t++) {
      const from = Math.max(0, j - WINDOW);
      parents.add(from + Math.floor(random() * (j - from)));
    }
    for (const p of [...parents].sort((a, b) => a - b)) {
      steps.push(`      - IN: ${jobName(p)}`);
      if (random() < 0.125) steps.push(`        switch: off`);
    }
    const lines = [
      `echo "building ${name}"`,
      `make -C service test TARGET=${name}`,
      ...(j % 2 === 0 ? [`./deploy.sh --env staging --tag 1.0.${j}`] : []),
    ];
    steps.push(
      `      - TASK:`,
      `          name: build`,
      `          script:`,
      ...lines.map((l) => `            - ${l}`),
    );
    steps.push(...outs);
    edges += steps.filter((s) => /^ {6}- (IN|OUT):/.test(s)).length;
    return [
      `  - name: ${name}`,
      `    type: runSh`,
      ...(j % 10 === 0 ? [`    dependencyMode: strict`] : []),
      `    steps:`,
      ...steps,
      `    on_success:`,
      `      script:`,
      `        - echo "${name} succeeded"`,
      ...(j % 3 === 0 ? [`    on_failure:`, `      script: echo "${name} failed" >&2`] : []),
    ].join("\n");
  };

  const files: GeneratedFile[] = [];
  for (let f = 0; f < fileCount; f++) {
    const rs = range(Math.floor((f * resources) / fileCount), Math.floor(((f + 1) * resources) / fileCount));
    const js = range(Math.floor((f * jobs) / fileCount), Math.floor(((f + 1) * jobs) / fileCount));
    const parts = [`# Generated by bench/src/generate-line.ts: part ${f + 1} of ${fileCount}.`];
    if (rs.length > 0) parts.push("resources:", ...rs.map(resourceText));
    if (js.length > 0) parts.push("jobs:", ...js.map(jobText));
    files.push({ path: `line-${String(f).padStart(2, "0")}.causeway.yml`, text: `${parts.join("\n")}\n` });
  }
  return { files, expected: { resources, jobs, edges } };
}

function kindOf(i: number): (typeof RESOURCE_KINDS)[number] {
  return RESOURCE_KINDS[i % RESOURCE_KINDS.length] ?? RESOURCE_KINDS[0];
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
}

// A small seeded PRNG (mulberry32): the line must be the same on every machine and run.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
