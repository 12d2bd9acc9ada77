// Windowing for a long list of rows of one fixed height: only the rows in view
// (and a few either side) are in the page, placed at their offset inside a
// spacer as tall as every row would be. The History pages its runs in as the
// window nears the end of what is loaded. Pure maths, so it is tested alone.

export interface RowWindow {
  /** The first row in the page. */
  start: number;
  /** One past the last row in the page. */
  end: number;
  /** Where the first row in the page goes from the list's top (px). */
  offset: number;
  /** How tall every row together is (px): the spacer's height. */
  total: number;
}

export interface WindowInput {
  /** How far the list is scrolled (px). */
  scrollTop: number;
  /** How tall its visible part is (px); 0 before layout (then `fallback`). */
  viewport: number;
  rowHeight: number;
  count: number;
  /** Rows kept in the page beyond each edge, so a fast scroll shows no gap. */
  overscan?: number;
  /** The viewport assumed before the list is laid out (a test's page has no layout). */
  fallback?: number;
}

/** The rows to put in the page for a list scrolled to `scrollTop`. */
export function rowWindow({ scrollTop, viewport, rowHeight, count, overscan = 6, fallback = 800 }: WindowInput): RowWindow {
  const height = viewport > 0 ? viewport : fallback;
  const total = count * rowHeight;
  // A list shortened under a scrolled view (a search) shows its last rows.
  const top = Math.max(0, Math.min(scrollTop, total - height));
  const first = Math.floor(top / rowHeight);
  const start = Math.max(0, first - overscan);
  const last = Math.floor((top + height - 1) / rowHeight);
  const end = Math.min(count, last + 1 + overscan);
  return { start, end: Math.max(start, end), offset: start * rowHeight, total };
}

/** Whether the next page should be loaded: the window reaches within `ahead` rows of the last row loaded. */
export function wantsMore(window: RowWindow, loaded: number, ahead = 20): boolean {
  return window.end + ahead >= loaded;
}
