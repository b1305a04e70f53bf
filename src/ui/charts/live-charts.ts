// The live uPlot instances by chart id, so the Export step can save their canvases as PNG.
import type uPlot from 'uplot';

export const liveCharts = new Map<string, uPlot>();
