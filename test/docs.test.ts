// Docs name what the code does: every instrument, attribute and derived
// family in packages/semconv appears in docs/semconv.md.

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Attr, Derived, Instruments, PromLabel } from "@mlwatch/semconv";
import { describe, expect, it } from "vitest";

const doc = readFileSync(new URL("../docs/semconv.md", import.meta.url), "utf8");

describe("docs/semconv.md", () => {
  it.each(Object.values(Instruments).map((i) => [i.name, i.prom]))("documents %s and %s", (otel, prom) => {
    expect(doc).toContain(`\`${otel}\``);
    expect(doc).toContain(prom);
  });
  it.each(Object.values(Attr))("documents attribute %s and its label", (a) => {
    expect(doc).toContain(`\`${a}\``);
    expect(doc).toContain(a === Attr.featureSign ? "folded away" : `\`${PromLabel[a]}\``);
  });
  it.each(Object.values(Derived).map((d) => d.prom))("documents family %s", (prom) => {
    expect(doc).toContain(prom);
  });
});

describe("links", () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const pages = [
    "README.md",
    ...readdirSync(join(root, "docs"), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".md"))
      .map((f) => join("docs", f)),
  ];
  it.each(pages)("every relative link in %s points at a file that exists", (page) => {
    const text = readFileSync(join(root, page), "utf8");
    const targets = [...text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1])
      .filter((t) => !/^[a-z]+:/.test(t));
    for (const t of targets) expect(existsSync(join(root, dirname(page), t)), `${page} → ${t}`).toBe(true);
  });
});

// Every `mlwatch …` command in a fenced code block of README.md and docs/ is
// checked against the built CLI's own --help: the command exists and every
// option it uses is one the CLI accepts (with a value where it takes one), so
// renaming an option or a command breaks this test until the docs follow.
// docs/cli.md's option tables and the CLI's options match both ways, and a
// page that shows `pnpm mlwatch` or `npm run mlwatch` shows `npx mlwatch` first.
describe("mlwatch commands in the docs", () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const cli = join(root, "collector/dist/cli/main.js");

  interface CliOption {
    long: string;
    short?: string;
    takesValue: boolean;
  }

  /** The lines of a help section ("Options:", "Commands:"), up to the next unindented line. */
  function helpSection(help: string, title: string): string[] {
    const lines = help.split("\n");
    const start = lines.indexOf(`${title}:`);
    if (start < 0) return [];
    const end = lines.findIndex((l, i) => i > start && !l.startsWith(" "));
    return lines.slice(start + 1, end < 0 ? undefined : end);
  }

  /**
   * Every command of the real CLI by its path ("" for mlwatch itself,
   * "collector", "baseline", "baseline build", …) with its options and subcommands.
   */
  function commandTree(): Map<string, { options: CliOption[]; subcommands: string[] }> {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run setup first`);
    const tree = new Map<string, { options: CliOption[]; subcommands: string[] }>();
    const visit = (path: string[]) => {
      const help = execFileSync(process.execPath, [cli, ...path, "--help"], { encoding: "utf8" });
      // Entries start two spaces in; wrapped descriptions are indented further.
      const options = helpSection(help, "Options").flatMap((l) => {
        const m = /^ {2}(?:-(\w), )?--([\w-]+)( [<[])?/.exec(l);
        return m ? [{ short: m[1], long: m[2], takesValue: m[3] !== undefined }] : [];
      });
      const subcommands = helpSection(help, "Commands")
        .flatMap((l) => /^ {2}([\w-]+)/.exec(l)?.[1] ?? [])
        .filter((c) => c !== "help");
      tree.set(path.join(" "), { options, subcommands });
      for (const c of subcommands) visit([...path, c]);
    };
    visit([]);
    return tree;
  }

  const tree = commandTree();
  const leaves = [...tree].filter(([, c]) => c.subcommands.length === 0).map(([path]) => path);

  // How a doc runs the CLI: npx, pnpm, npm run, npm exec, node with the built file, or the bare bin.
  const route =
    /^(npx mlwatch|pnpm(?: -s)? mlwatch|npm run(?: -s)? mlwatch --|npm exec (?:--prefix \S+ )?-- mlwatch|node \S*collector\/dist\/cli\/main\.js|mlwatch)(?=\s|$)/;

  interface DocCommand {
    page: string;
    text: string;
    route: string;
    words: string[];
  }

  /** The mlwatch commands in a page's fenced code blocks, one per shell command. */
  function docCommands(page: string): DocCommand[] {
    const md = readFileSync(join(root, page), "utf8");
    const out: DocCommand[] = [];
    for (const block of md.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)) {
      for (const line of block[1].replace(/\\\n\s*/g, " ").split("\n")) {
        const code = line.replace(/(^|\s)#.*$/, "");
        for (const part of code.split(/&&|\|\||[;&|]/)) {
          const text = part.trim().replace(/^\$ /, "");
          const m = route.exec(text);
          if (!m) continue;
          // "[--url http://…]" shows an optional option: check what is inside the brackets.
          const words = text
            .slice(m[0].length)
            .split(/\s+/)
            .map((w) => w.replace(/^\[|\]$/g, ""))
            .filter(Boolean);
          out.push({ page, text, route: m[1], words });
        }
      }
    }
    return out;
  }

  /** What the real CLI would refuse in a documented command's words, or "" when it accepts them. */
  function problem(words: string[]): string {
    let path = "";
    let i = 0;
    for (; i < words.length; i++) {
      const next = path ? `${path} ${words[i]}` : words[i];
      if (!tree.has(next)) break;
      path = next;
    }
    const cmd = tree.get(path)!;
    const name = `mlwatch${path ? ` ${path}` : ""}`;
    // A group (mlwatch, mlwatch baseline) only takes a subcommand, or options such as --version.
    if (cmd.subcommands.length && (i === words.length || !words[i].startsWith("-")))
      return `${name} needs one of ${cmd.subcommands.join(", ")}, not "${words[i] ?? ""}"`;
    for (; i < words.length; i++) {
      const w = words[i];
      if (!w.startsWith("-")) return `unexpected argument "${w}" for ${name}`;
      const flag = w.split("=")[0];
      const o = cmd.options.find((o) => `--${o.long}` === flag || (o.short && `-${o.short}` === flag));
      if (!o) return `${name} has no option ${flag}`;
      if (o.takesValue && !w.includes("=")) {
        const value = words[i + 1];
        if (value === undefined || value.startsWith("-")) return `${name} ${flag} needs a value`;
        i++;
      }
    }
    return "";
  }

  const pages = [
    "README.md",
    ...readdirSync(join(root, "docs"), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".md"))
      .map((f) => join("docs", f)),
  ];
  const commands = pages.flatMap(docCommands);

  it("finds the CLI's commands, and commands in README.md, docs/cli.md and docs/baselines.md", () => {
    expect([...leaves].sort()).toEqual(["baseline build", "baseline list", "baseline push", "collector"]);
    for (const page of ["README.md", "docs/cli.md", "docs/baselines.md"])
      expect(commands.filter((c) => c.page === page).length, page).toBeGreaterThan(0);
  });

  it("docs/cli.md's code blocks show every command of the CLI", () => {
    const shown = commands
      .filter((c) => c.page === "docs/cli.md")
      .flatMap((c) => leaves.filter((l) => `${c.words.join(" ")} `.startsWith(`${l} `)));
    expect([...new Set(shown)].sort()).toEqual([...leaves].sort());
  });

  it.each(commands.map((c) => [c.page, c.text, c] as const))("%s: %s", (_page, _text, c) => {
    expect(problem(c.words)).toBe("");
    // Code blocks are for a user with only Node.js and npm: npx inside the clone, node and the built file outside.
    expect(c.route === "npx mlwatch" || c.route.startsWith("node "), `route ${c.route}`).toBe(true);
  });

  const routed = pages.filter((p) =>
    /(?:npx|pnpm|npm run)(?: -s)? mlwatch/.test(readFileSync(join(root, p), "utf8")),
  );
  it.each(routed)("%s shows npx mlwatch before any pnpm mlwatch or npm run mlwatch", (page) => {
    const text = readFileSync(join(root, page), "utf8").replace(/\s+/g, " ");
    const other = text.search(/pnpm (?:-s )?mlwatch|npm run (?:-s )?mlwatch/);
    const npx = text.indexOf("npx mlwatch");
    expect(npx, `${page} does not show npx mlwatch`).toBeGreaterThanOrEqual(0);
    if (other >= 0) expect(npx, `${page} shows another route before npx mlwatch`).toBeLessThan(other);
  });
  it("checks the pages that show another route", () => {
    expect(routed).toEqual(expect.arrayContaining(["README.md", "docs/cli.md"]));
  });

  describe("docs/cli.md option tables", () => {
    const md = readFileSync(join(root, "docs/cli.md"), "utf8");
    const sections = new Map(
      md.split(/^(?=## )/m).flatMap((s) => {
        const name = /^## `mlwatch ([^`]+)`/.exec(s)?.[1];
        return name ? [[name, s] as const] : [];
      }),
    );
    /** The options named in the first column of a section's table rows: "`-c, --config <file>`" → {c, config}. */
    const tabled = (section: string) =>
      section
        .split("\n")
        .filter((l) => l.startsWith("| `"))
        .flatMap((l) => [...l.split(/(?<!\\)\|/)[1].matchAll(/(?:(?<![\w-])-(\w), )?--([a-z][\w-]*)/g)])
        .map((m) => ({ short: m[1], long: m[2] }));

    it("has a section for every command", () => {
      expect([...sections.keys()].sort()).toEqual([...leaves].sort());
    });

    it.each(leaves)("mlwatch %s: every table row names a real option, every option has a row", (cmd) => {
      const real = tree.get(cmd)!.options.filter((o) => o.long !== "help");
      const rows = tabled(sections.get(cmd) ?? "");
      for (const r of rows) {
        const o = real.find((o) => o.long === r.long);
        expect(o, `docs/cli.md has a row for --${r.long}, which mlwatch ${cmd} does not have`).toBeDefined();
        if (r.short) expect(`-${r.short}`, `short form of --${r.long}`).toBe(`-${o?.short}`);
      }
      for (const o of real)
        expect(
          rows.some((r) => r.long === o.long),
          `mlwatch ${cmd} --${o.long} has no row in docs/cli.md`,
        ).toBe(true);
    });

    it("the intro names mlwatch's own options", () => {
      const intro = md.split(/^## /m)[0];
      for (const o of tree.get("")!.options.filter((o) => o.long !== "help"))
        expect(intro).toContain(`--${o.long}`);
    });
  });
});
