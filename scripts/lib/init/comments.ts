/**
 * The comments of a piece of source, found through the syntax tree (every comment is trivia
 * before some token), so `init` can carry each comment of what it rewrites into what it writes
 * and prove that none was dropped.
 */
import ts from "typescript";

/** One comment: its place in the file and its text. */
export interface Comment {
  pos: number;
  end: number;
  text: string;
}

/** Every comment that starts in `[from, to)` of `node`'s file, in order. */
export function commentsWithin(
  sf: ts.SourceFile,
  node: ts.Node,
  from: number,
  to: number,
): Comment[] {
  const found = new Map<number, Comment>();
  const visit = (n: ts.Node) => {
    if (n.kind >= ts.SyntaxKind.FirstJSDocNode && n.kind <= ts.SyntaxKind.LastJSDocNode) return;
    add(n.pos);
    for (const child of n.getChildren(sf)) visit(child);
  };
  // The trivia at `pos`: comments on its own line (TypeScript's "trailing" ones), then the rest.
  const add = (pos: number) => {
    const ranges = [
      ...(ts.getTrailingCommentRanges(sf.text, pos) ?? []),
      ...(ts.getLeadingCommentRanges(sf.text, pos) ?? []),
    ];
    for (const r of ranges) {
      if (r.pos >= from && r.pos < to && !found.has(r.pos)) {
        found.set(r.pos, { pos: r.pos, end: r.end, text: sf.text.slice(r.pos, r.end) });
      }
    }
  };
  visit(node);
  // The trivia after the node's last token belongs to the token that follows it.
  add(node.end);
  return [...found.values()].sort((a, b) => a.pos - b.pos);
}

/** `node`'s text without its comments (to compare two validators as code). */
export function textWithoutComments(sf: ts.SourceFile, node: ts.Node): string {
  const start = node.getStart(sf);
  let out = "";
  let at = start;
  for (const c of commentsWithin(sf, node, start, node.end)) {
    out += sf.text.slice(at, c.pos);
    at = c.end;
  }
  return out + sf.text.slice(at, node.end);
}

/**
 * The comments of `original` that `rewritten` lacks (as a multiset of texts, whitespace at the
 * ends of lines aside): what a rewrite would lose. Both are parsed as expressions.
 */
export function lostComments(original: string[], rewritten: string): string[] {
  const sf = ts.createSourceFile("x.ts", `(${rewritten});`, ts.ScriptTarget.Latest, true);
  const norm = (t: string) => t.replace(/\s+/g, " ").trim();
  const have = new Map<string, number>();
  for (const c of commentsWithin(sf, sf, 0, sf.text.length)) {
    have.set(norm(c.text), (have.get(norm(c.text)) ?? 0) + 1);
  }
  const lost: string[] = [];
  for (const text of original) {
    const n = have.get(norm(text)) ?? 0;
    if (n === 0) lost.push(text);
    else have.set(norm(text), n - 1);
  }
  return lost;
}
