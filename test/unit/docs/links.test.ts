import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Every relative link of README.md and docs/ (their Markdown files) leads somewhere: to a file or
 * folder that exists and, for a `#fragment`, to a heading of that Markdown file, slugged as GitHub
 * slugs headings. Links inside code blocks are code, not links.
 */
const ROOT = resolve(__dirname, '../../..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** The text outside fenced code blocks and inline code spans. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

const files = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];
const links = files.flatMap((file) =>
  [...prose(readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => ({ file: relative(ROOT, file), target })),
);

describe('links between README.md and docs/', () => {
  it('finds the links, so the check below cannot pass on nothing', () => {
    expect(files.length).toBeGreaterThan(10);
    expect(links.length).toBeGreaterThan(50);
    expect(links.filter((link) => link.target.includes('#')).length).toBeGreaterThan(10);
  });

  it('has a GitHub anchor for a heading', () => {
    expect(headingAnchors('## Callers: `AUTH_MODE`\n## Limits: the upstream\'s, and one request\'s\n## A\n## A')).toEqual(
      new Set(['callers-auth_mode', 'limits-the-upstreams-and-one-requests', 'a', 'a-1']),
    );
  });

  it('leads every relative link to an existing file and heading', () => {
    const broken = links.filter(({ file, target }) => {
      const [path, fragment] = target.split('#');
      const destination = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), decodeURIComponent(path));
      if (!existsSync(destination)) return true;
      if (fragment === undefined) return false;
      return !destination.endsWith('.md') || !headingAnchors(readFileSync(destination, 'utf8')).has(fragment);
    });
    expect(broken).toEqual([]);
  });
});
