// Multiple-choice choices as typed in one field, comma-separated: the
// History's re-resolve and the follow-up box both read them with this.

/** The choices in `text`: trimmed, blanks dropped, a choice typed again (in any case) kept once. */
export function parseChoices(text: string): string[] {
  return text
    .split(",")
    .map((c) => c.trim())
    .filter((c, i, all) => c && all.findIndex((d) => d.toLowerCase() === c.toLowerCase()) === i);
}
