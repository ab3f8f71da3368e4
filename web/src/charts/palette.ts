/** Series colours: distinguishable, readable on white, in a fixed order. */
export const PALETTE = ["#0f6cbd", "#c50f1f", "#107c10", "#8764b8", "#ca5010", "#038387", "#b4009e", "#4f6bed", "#986f0b", "#5c2e91"];

export function colorAt(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}
