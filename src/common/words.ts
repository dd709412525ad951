/**
 * Splits a line into words on blanks, a quoted part ('...' or "...") keeping its blanks, as a shell
 * does: `-e "a=1 b='x y'"` and an INI inventory's host line are both read with it. `keepQuotes`
 * leaves the quotes in the word (INI values are parsed afterwards, quotes telling a string);
 * `comment` ends the line at a word starting with it. Throws on an unclosed quote.
 */
export function splitWords(line: string, options: { keepQuotes?: boolean; comment?: string } = {}): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const char of line) {
    if (quote) {
      if (char !== quote) word += char;
      else {
        quote = undefined;
        if (options.keepQuotes) word += char;
      }
    } else if (char === "'" || char === '"') {
      quote = char;
      word = (word ?? "") + (options.keepQuotes ? char : "");
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (word === undefined && char === options.comment) break;
    else word = (word ?? "") + char;
  }
  if (quote) throw new Error(`an unclosed ${quote}`);
  if (word !== undefined) words.push(word);
  return words;
}
