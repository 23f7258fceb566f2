/*
 * model_dtc.h - DTC, the deep temporal clustering baseline (Madiraju et al.
 * 2018, arXiv 1802.01059), as the DSC paper applied it: each time step's
 * field (V, H, W) flattened to one row of length d = V*H*W and read as a
 * 1-D sequence.  `dsc train --variant dtc` (doc/baselines.md).
 *
 * Dimension letters: B samples, d = V*H*W positions of the flattened field,
 * F filters, K kernel, P pool size, Lp = ceil(d/P) latent positions, H1, H2
 * units per direction of the two BiLSTMs, L = Lp*H2 the latent size.
 *
 *   x (B, d, 1) -> Conv1D F, kernel K, 'same' -> leaky ReLU   (B, d, F)
 *     -> MaxPool1D P                                           (B, Lp, F)
 *     -> BiLSTM H1 (directions summed) -> leaky ReLU           (B, Lp, H1)
 *     -> BiLSTM H2 (directions summed) -> leaky ReLU = latent  (B, Lp, H2)
 *     -> UpSampling1D P, cut to d                              (B, d, H2)
 *     -> Conv1D 1, kernel K, 'same', linear = reconstruction   (B, d, 1)
 *   loss = MSE(reconstruction, x); the clustering layer is DSC's (Student-t
 *   kernel on the Euclidean distance between the flattened latent sequences).
 *
 * It is reached through model.h (its ops table, src/nn/model_dtc.c); this
 * header adds what the tests and the options look at.
 *
 * The model_config fields it reads: conv[0] = F, kernel = K, pool = P,
 * lstm[0..1] = H1, H2; steps must be 1; latent is derived (L above) by
 * model_create; activation, latent_activation and dropout are not used.
 * Parameters live in the model's flat buffer (tensors enc.conv1.*,
 * enc.lstm{1,2}.{fwd,bwd}.*, dec.out.*, cluster.centroids), so allreduce,
 * checkpoints, predict and eval handle it like the other variants.
 */
#ifndef DSC_MODEL_DTC_H
#define DSC_MODEL_DTC_H

#include "model.h"

#define DTC_LEAKY_ALPHA 0.3f /* Keras LeakyReLU default, the DTC code's setting */

/* The DTC paper's network: 50 filters, kernel 10, pool 10, BiLSTM 50 and 1
 * (model_config_preset for MODEL_DTC). */
void model_dtc_config_defaults(model_config *c);
/* L = ceil(V*H*W / P) * H2. */
int model_dtc_latent_size(const model_config *c);

/* For the gradient check: the branch every non-differentiable layer took in
 * the last forward (pooling arg-max, sign of every leaky ReLU output),
 * written to out unless NULL; returns their number. */
size_t model_dtc_kinks(const model *m, int *out);

#endif
