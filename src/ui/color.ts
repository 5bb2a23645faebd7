// Whether the Ink views may use colour. Ink's chalk ignores NO_COLOR, so the views ask here and leave
// colours out when they are off; symbols, bold and inverse still say everything.
import { createContext, useContext } from 'react';

export const ColorContext = createContext(true);

/** `paint('green')` is 'green' with colours on, undefined (no colour) with them off. */
export function usePaint(): (color: string) => string | undefined {
  const enabled = useContext(ColorContext);
  return (color) => (enabled ? color : undefined);
}
