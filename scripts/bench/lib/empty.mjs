// An empty module: the cost of one dynamic import, for the startup floor.
export const nothing = 0;
