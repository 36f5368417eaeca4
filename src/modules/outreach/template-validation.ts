import Handlebars from 'handlebars';
import { HTML_CHANNELS, MessageChannel, SUBJECT_CHANNELS, SUBJECT_REQUIRED_CHANNELS } from './outreach.enums';
import { OutreachErrors, type OutreachErrorReason } from './outreach.errors';
import { MESSAGE_MODEL_TREE, type ModelNode } from './message-model';
import { BLOCK_HELPERS, HELPERS, precompileCheck, type HelperName } from './template-engine';

export interface TemplateProblem {
  field: 'subject' | 'body';
  reason: OutreachErrorReason;
  message: string;
}

export const MAX_SUBJECT_CHARS = 500;
export const MAX_BODY_CHARS = 100_000;

/**
 * Checks a template before it is saved: it must parse and compile, and every merge field,
 * helper and block must exist in the fixed model (MESSAGE_MODEL_FIELDS), taking the context
 * of `#each` / `#with` blocks, `this`, `../`, `@root` and block params into account.
 */
export function validateTemplate(input: { channel: MessageChannel; subject?: string | null; body: string }): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const subject = input.subject ?? '';
  if (SUBJECT_CHANNELS.has(input.channel)) {
    if (!subject.trim()) {
      if (SUBJECT_REQUIRED_CHANNELS.has(input.channel)) problems.push({ field: 'subject', reason: OutreachErrors.SUBJECT_REQUIRED, message: `a ${input.channel} template needs a subject` });
    } else if (subject.length > MAX_SUBJECT_CHARS) {
      problems.push({ field: 'subject', reason: OutreachErrors.TOO_LONG, message: `at most ${MAX_SUBJECT_CHARS} characters, got ${subject.length}` });
    } else {
      problems.push(...checkSource('subject', subject, false));
    }
  } else if (subject.trim()) {
    problems.push({ field: 'subject', reason: OutreachErrors.SUBJECT_NOT_ALLOWED, message: `${input.channel} messages have no subject; leave it empty` });
  }
  if (!input.body.trim()) problems.push({ field: 'body', reason: OutreachErrors.BODY_REQUIRED, message: 'must not be empty' });
  else if (input.body.length > MAX_BODY_CHARS) problems.push({ field: 'body', reason: OutreachErrors.TOO_LONG, message: `at most ${MAX_BODY_CHARS} characters, got ${input.body.length}` });
  else problems.push(...checkSource('body', input.body, HTML_CHANNELS.has(input.channel)));
  return problems;
}

function checkSource(field: 'subject' | 'body', source: string, html: boolean): TemplateProblem[] {
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(source);
  } catch (err) {
    return [{ field, reason: OutreachErrors.TEMPLATE_SYNTAX, message: syntaxMessage(err) }];
  }
  const walker = new Walker(field, html);
  walker.program(ast, [{ node: MESSAGE_MODEL_TREE, each: false, params: new Map(), label: '' }]);
  if (walker.problems.length) return walker.problems;
  try {
    precompileCheck(source, html);
  } catch (err) {
    return [{ field, reason: OutreachErrors.TEMPLATE_SYNTAX, message: syntaxMessage(err) }];
  }
  return [];
}

function syntaxMessage(err: unknown): string {
  const e = err as { message?: string; lineNumber?: number };
  const first = String(e.message ?? err).split('\n');
  // Handlebars' parse errors are "Parse error on line N:\n<source>\n---^\nExpecting ...": keep line and expectation.
  const text = first.length > 3 ? `${first[0].replace(/:$/, '')}: ${first.slice(3).join(' ')}` : first.join(' ');
  return e.lineNumber && !/line \d+/.test(text) ? `line ${e.lineNumber}: ${text}` : text;
}

interface Scope {
  node: ModelNode;
  /** Inside `#each`: @index, @first, @last, @key exist. */
  each: boolean;
  /** Block params declared by this block (`as |inv i|`). */
  params: Map<string, Labelled>;
  /** Where this context sits in the model, e.g. `invoices[]`, for messages. */
  label: string;
}

interface Labelled {
  node: ModelNode;
  label: string;
}

const NUMBER: ModelNode = { kind: 'value', type: 'number' };
const DATA_VARS: Record<string, ModelNode> = { index: NUMBER, first: NUMBER, last: NUMBER, key: NUMBER };

type Resolved = { ok: true; node: ModelNode; label: string } | { ok: false; message: string };

class Walker {
  readonly problems: TemplateProblem[] = [];
  constructor(
    private readonly field: 'subject' | 'body',
    private readonly html: boolean,
  ) {}

  private add(node: hbs.AST.Node, reason: OutreachErrorReason, message: string): void {
    const line = node.loc?.start?.line;
    const text = line ? `line ${line}: ${message}` : message;
    if (!this.problems.some((p) => p.reason === reason && p.message === text)) this.problems.push({ field: this.field, reason, message: text });
  }

  program(p: hbs.AST.Program | undefined, stack: Scope[]): void {
    for (const s of p?.body ?? []) this.statement(s, stack);
  }

  private statement(s: hbs.AST.Statement, stack: Scope[]): void {
    switch (s.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        return;
      case 'MustacheStatement':
        return this.mustache(s as hbs.AST.MustacheStatement, stack);
      case 'BlockStatement':
        return this.block(s as hbs.AST.BlockStatement, stack);
      case 'PartialStatement':
      case 'PartialBlockStatement':
        return this.add(s, OutreachErrors.UNSUPPORTED_SYNTAX, 'partials ({{> name}}) are not available in message templates');
      default:
        return this.add(s, OutreachErrors.UNSUPPORTED_SYNTAX, `${s.type} is not available in message templates`);
    }
  }

  private mustache(m: hbs.AST.MustacheStatement, stack: Scope[]): void {
    if (m.path.type !== 'PathExpression') return this.add(m, OutreachErrors.UNKNOWN_HELPER, `a literal cannot be called as a helper`);
    const path = m.path as hbs.AST.PathExpression;
    const name = simpleName(path);
    const callsHelper = m.params.length > 0 || m.hash?.pairs.length > 0 || (name !== null && (name in HELPERS || BLOCK_HELPERS.has(name) || name === 'lookup' || name === 'log'));
    if (callsHelper) return void this.helperCall(m, path, stack);
    const r = this.resolve(path, stack);
    if (!r.ok) return this.add(m, OutreachErrors.UNKNOWN_MERGE_FIELD, r.message);
    if (r.node.kind !== 'value') {
      return this.add(m, OutreachErrors.NOT_PRINTABLE, `${path.original} is ${r.node.kind === 'list' ? 'a list: loop over it with {{#each}}' : 'an object: print one of its fields'}`);
    }
    if (this.html && !m.escaped) this.add(m, OutreachErrors.UNESCAPED_OUTPUT, `{{{${path.original}}}} would insert ${path.original} as raw HTML; use {{${path.original}}}`);
  }

  /** A helper call in a mustache or a subexpression; returns false when it is refused. */
  private helperCall(m: { params: hbs.AST.Expression[]; hash: hbs.AST.Hash } & hbs.AST.Node, path: hbs.AST.PathExpression, stack: Scope[]): boolean {
    const name = simpleName(path);
    if (name === null || !(name in HELPERS)) {
      if (name && BLOCK_HELPERS.has(name)) this.add(m, OutreachErrors.UNKNOWN_HELPER, `${name} is a block helper: write {{#${name} …}}…{{/${name}}}`);
      else this.add(m, OutreachErrors.UNKNOWN_HELPER, `unknown helper "${path.original}"; the helpers are ${Object.keys(HELPERS).join(', ')}`);
      this.params(m.params, stack);
      return false;
    }
    const spec = HELPERS[name as HelperName];
    if (m.params.length !== spec.params || m.hash?.pairs.length) {
      this.add(m, OutreachErrors.HELPER_ARGUMENTS, `${name} takes ${spec.params} argument${spec.params === 1 ? '' : 's'}: ${spec.usage}`);
    }
    this.params(m.params, stack, name);
    return true;
  }

  private params(params: hbs.AST.Expression[], stack: Scope[], helper?: string): void {
    for (const p of params) {
      if (p.type === 'SubExpression') {
        const sub = p as hbs.AST.SubExpression;
        this.helperCall(sub, sub.path, stack);
      } else if (p.type === 'PathExpression') {
        const path = p as hbs.AST.PathExpression;
        const r = this.resolve(path, stack);
        if (!r.ok) this.add(p, OutreachErrors.UNKNOWN_MERGE_FIELD, r.message);
        else if (helper && r.node.kind !== 'value') this.add(p, OutreachErrors.HELPER_ARGUMENTS, `${helper} needs a value, but ${path.original} is ${r.node.kind === 'list' ? 'a list' : 'an object'}`);
      }
    }
  }

  private block(b: hbs.AST.BlockStatement, stack: Scope[]): void {
    const name = simpleName(b.path);
    if (name === null || !BLOCK_HELPERS.has(name)) {
      const hint = name && name in HELPERS ? `${name} is not a block helper: write {{${name} …}}` : `unknown block helper "#${b.path.original}"; the blocks are ${[...BLOCK_HELPERS].map((h) => `#${h}`).join(', ')}`;
      this.add(b, OutreachErrors.UNKNOWN_HELPER, hint);
      return;
    }
    const hashOk = (b.hash?.pairs ?? []).every((p) => (name === 'if' || name === 'unless') && p.key === 'includeZero' && p.value.type === 'BooleanLiteral');
    if (b.params.length !== 1 || !hashOk) this.add(b, OutreachErrors.HELPER_ARGUMENTS, `#${name} takes exactly one argument`);
    let target: ModelNode | null = null;
    let label = '';
    const [param] = b.params;
    if (param?.type === 'PathExpression') {
      const r = this.resolve(param as hbs.AST.PathExpression, stack);
      if (!r.ok) this.add(param, OutreachErrors.UNKNOWN_MERGE_FIELD, r.message);
      else ({ node: target, label } = r);
    } else if (param?.type === 'SubExpression') {
      const sub = param as hbs.AST.SubExpression;
      this.helperCall(sub, sub.path, stack);
    }
    const original = param?.type === 'PathExpression' ? (param as hbs.AST.PathExpression).original : 'its argument';
    if (name === 'each' || name === 'with') {
      const want = name === 'each' ? 'list' : 'object';
      if (target && target.kind !== want) this.add(b, OutreachErrors.HELPER_ARGUMENTS, `#${name} needs ${want === 'list' ? 'a list' : 'an object'}, but ${original} is ${target.kind === 'value' ? 'a value' : `an ${target.kind}`}`);
      if (target && target.kind === want) {
        const inner = target.kind === 'list' ? target.item : target;
        const innerLabel = target.kind === 'list' ? `${label}[]` : label;
        const declared = b.program.blockParams ?? [];
        const params = new Map<string, Labelled>();
        if (declared[0]) params.set(declared[0], { node: inner, label: innerLabel });
        if (declared[1]) params.set(declared[1], { node: NUMBER, label: declared[1] });
        this.program(b.program, [...stack, { node: inner, each: name === 'each', params, label: innerLabel }]);
      }
      // Without a known target the block's content cannot be checked; the argument error above is enough.
    } else {
      this.program(b.program, stack);
    }
    this.program(b.inverse, stack);
  }

  private resolve(path: hbs.AST.PathExpression, stack: Scope[]): Resolved {
    const parts = path.parts;
    if (path.data) {
      const [head, ...rest] = parts;
      if (head === 'root') return walk(MESSAGE_MODEL_TREE, rest, '');
      if (head in DATA_VARS && rest.length === 0) {
        return stack.some((s) => s.each) ? { ok: true, node: DATA_VARS[head], label: `@${head}` } : { ok: false, message: `@${head} exists only inside {{#each}}` };
      }
      return { ok: false, message: `unknown data variable @${parts.join('.')}` };
    }
    const scoped = /^(this\b|\.)/.test(path.original);
    if (!scoped && path.depth === 0 && parts.length > 0) {
      for (let i = stack.length - 1; i >= 0; i--) {
        const bound = stack[i].params.get(parts[0]);
        if (bound) return walk(bound.node, parts.slice(1), bound.label);
      }
    }
    const base = stack[stack.length - 1 - path.depth];
    if (!base) return { ok: false, message: `${path.original} goes above the top of the model` };
    return walk(base.node, parts, base.label);
  }
}

function simpleName(path: hbs.AST.PathExpression): string | null {
  return !path.data && path.depth === 0 && path.parts.length === 1 && !/^(this\b|\.)/.test(path.original) ? path.parts[0] : null;
}

function walk(start: ModelNode, parts: string[], label: string): Resolved {
  let node = start;
  let at = label;
  const join = (a: string, b: string) => (a ? `${a}.${b}` : b);
  for (const part of parts) {
    if (node.kind === 'list') {
      if (part === 'length') node = NUMBER;
      else if (/^\d+$/.test(part)) node = node.item;
      else return { ok: false, message: `unknown merge field ${join(at, part)}: ${at} is a list (loop over it with {{#each}}, or use .length)` };
      at = part === 'length' ? join(at, part) : `${at}[]`;
    } else if (node.kind === 'object') {
      const next = node.fields.get(part);
      if (!next) {
        const here = [...node.fields.keys()];
        const near = here.find((k) => distance(k.toLowerCase(), part.toLowerCase()) <= 2);
        return { ok: false, message: `unknown merge field ${join(at, part)}${near ? ` (did you mean ${join(at, near)}?)` : ''}; ${at || 'the model'} has ${here.join(', ')}` };
      }
      node = next;
      at = join(at, part);
    } else {
      return { ok: false, message: `unknown merge field ${join(at, part)}: ${at} is a value` };
    }
  }
  return { ok: true, node, label: at };
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
