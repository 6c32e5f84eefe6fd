/**
 * Text that goes into a printed shell command (a fix, an `export` line, user data): one quoting rule, so that
 * a value from a topology file or from AWS (a branch name in an OIDC subject, a policy document) is one word
 * and runs nothing when the command is pasted. POSIX shell: inside single quotes every character is literal;
 * a single quote is written `'\''` (end the quoted part, an escaped quote, start a new one). Domain layer.
 */

/** `text` as one single-quoted shell word: `it's` -> `'it'\''s'`. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * `text` as it is when it is already one plain shell word (letters, digits and `_@%+=:,./-`: an id, a region, an
 * ARN), else `shellQuote(text)`: printed commands stay readable for the values they usually hold and safe for
 * any other.
 */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : shellQuote(text);
}
