/*
 * model_dec.h - the layers of the DEC network (variant MODEL_DEC of
 * model.h, src/nn/model_dec.c), reached through m->dec_net.  Callers use
 * model.h only; the tests look at these activations.
 */
#ifndef DSC_MODEL_DEC_H
#define DSC_MODEL_DEC_H

#include "model.h"

struct model_dec_net {
    model_dense enc[MODEL_NDENSE + 1]; /* d -> D1 -> D2 -> D3 -> L */
    model_dense dec[MODEL_NDENSE + 1]; /* L -> D3 -> D2 -> D1 -> d */
    float *enc_act[MODEL_NDENSE];      /* (B, D1), (B, D2), (B, D3) after the activation */
    float *dec_act[MODEL_NDENSE];      /* (B, D3), (B, D2), (B, D1) after the activation */
    int decoded;                       /* the last forward ran the decoder */
};

#endif
