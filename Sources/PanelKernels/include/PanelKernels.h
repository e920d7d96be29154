#ifndef SPRIG_PANEL_KERNELS_H
#define SPRIG_PANEL_KERNELS_H

#include <stdint.h>

/// The Graph Challenge's kernels on panels of 16 inputs (see PanelKernels.c). A panel holds
/// neuron i of its c-th input at panel[16·line(i) + c]: one 64-byte line per neuron, 64-byte
/// aligned, with a spare line after every 64 neurons. Without it, neurons 64 apart (what the
/// radix-2 stages of RadiX-Net read for one output: i ≡ j mod 64) sit 4 KiB apart, in the same
/// set of L1, and those layers ran 2.3× slower than the permuted ones.
static inline int64_t sprig_panel_line(int64_t neuron) { return neuron + (neuron >> 6); }

/// The lines of a panel of N neurons.
static inline int64_t sprig_panel_lines(int64_t neurons) { return neurons > 0 ? sprig_panel_line(neurons - 1) + 1 : 0; }

/// One layer, output rows j in [row_begin, row_end) of Wᵀ (CSR: offsets, columns, values), for
/// every panel p in 0..<count:
///   outputs[p][line(j)][c] = min(cap, max(0, Σ_k values[k]·inputs[p][line(columns[k])][c] + bias[j]))
/// and alive[p] |= the bits of the columns c with a nonzero output among these rows.
void sprig_panel_layer(const int64_t *offsets, const int32_t *columns, const float *values,
                       const float *bias, float cap, int64_t row_begin, int64_t row_end,
                       const float *const *inputs, float *const *outputs, int64_t count,
                       uint16_t *alive);

/// For lines [line_begin, line_end) and each move m in 0..<count:
///   to[m][i][to_lane[m]] = from[m][i][from_lane[m]].
void sprig_panel_move_columns(const float *const *from, const uint8_t *from_lane,
                              float *const *to, const uint8_t *to_lane, int64_t count,
                              int64_t line_begin, int64_t line_end);

#endif
