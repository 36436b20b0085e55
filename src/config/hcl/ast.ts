/**
 * The HCL syntax tree. Every node carries the 1-based `line` and `column` of
 * its first character so that configuration and policy errors can point at
 * the offending spot. JSON documents are converted into the same tree.
 */

export interface HclPosition {
  line: number;
  column: number;
}

/** A comment as written, including its `#`, `//` or `/* *\/` markers. */
export interface HclComment extends HclPosition {
  text: string;
}

export interface HclString extends HclPosition {
  kind: 'string';
  value: string;
  /** Set when the value was written as a heredoc (`<<EOF` / `<<-EOF`). */
  heredoc?: { marker: string; indented: boolean };
}

export interface HclNumber extends HclPosition {
  kind: 'number';
  value: number;
  /** Source spelling (kept so formatting does not turn 0x10 into 16). */
  raw: string;
}

export interface HclBool extends HclPosition {
  kind: 'bool';
  value: boolean;
}

export interface HclList extends HclPosition {
  kind: 'list';
  items: HclValue[];
}

/** `{ k = v, ... }` used as a value; its body may hold blocks too (HCL v1). */
export interface HclObject extends HclPosition {
  kind: 'object';
  body: HclBody;
}

export type HclValue = HclString | HclNumber | HclBool | HclList | HclObject;

interface HclItemBase extends HclPosition {
  /** Comments on the lines directly before the item. */
  leadingComments: HclComment[];
  /** A comment that follows the item on its last line. */
  trailingComment?: HclComment;
}

/** `key = value` */
export interface HclAttribute extends HclItemBase {
  kind: 'attribute';
  key: string;
  value: HclValue;
}

export interface HclLabel extends HclPosition {
  value: string;
  /** False for bare identifiers (`listener tcp {}`), true for `"tcp"`. */
  quoted: boolean;
}

/** `type "label" ... { body }` */
export interface HclBlock extends HclItemBase {
  kind: 'block';
  type: string;
  labels: HclLabel[];
  body: HclBody;
}

export type HclItem = HclAttribute | HclBlock;

export interface HclBody extends HclPosition {
  items: HclItem[];
  /** Comments after the last item (before `}` or the end of the file). */
  endComments: HclComment[];
}
