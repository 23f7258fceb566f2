/*
 * layers.h - the layers of the CNN-LSTM autoencoder (paper section 4.1, Fig. 1):
 * 2-D convolution, max pooling, nearest up-sampling, dense, LSTM,
 * element-wise activations and the mean squared error of the reconstruction.
 *
 * Dimension letters:
 *   B  batch (samples, or samples x time steps for the convolutional part)
 *   C  channels (IC input, OC output)       H, W  height (latitude), width (longitude)
 *   K  convolution kernel size (odd)       S  time steps of an LSTM sequence
 *   IN input features                      OUT / HID  output features / LSTM units
 *
 * Conventions (as in llm.c):
 *   - float32, batch-major, images NCHW = (B, C, H, W), row-major.
 *   - layer_forward(out, inp, weights..., scratch, dims): outputs first.
 *   - layer_backward(dinp, dweight, dbias, dout, inp/saved..., scratch, dims):
 *     EVERY backward ACCUMULATES (+=) into dinp, dweight and dbias, so the
 *     gradients of a batch or of several uses add up; the caller zeroes them.
 *     dinp may be NULL (first layer: no input gradient is computed).
 *     dinp must not alias dout.
 *   - Nothing is allocated inside forward/backward.  Scratch memory is passed
 *     in by the caller, sized by the layer's *_scratch_floats() function
 *     (one workspace sized to the largest layer may be shared by all layers;
 *     its contents need not survive between calls).
 *   - Weights use the PyTorch layouts, so a PyTorch twin loads them directly:
 *     conv (OC, IC, K, K), dense (OUT, IN), LSTM weight_ih (4*HID, IN) and
 *     weight_hh (4*HID, HID).
 *   - Each GEMM kernel (conv2d, dense, lstm: OpenBLAS sgemm + OpenMP) has a
 *     slow, obviously correct *_reference twin with direct loops in
 *     tests/reference_kernels.c (linked into the tests only); pooling,
 *     up-sampling, activations and MSE are direct loops.
 *
 * Flatten and reshape are no-ops on these buffers: a (B, C, H, W) tensor is
 * read as (B, C*H*W) in NCHW order (c slowest, then h, then w).  Keras
 * flattens NHWC (channels fastest); this program uses NCHW throughout, and
 * the PyTorch twin flattens NCHW too, so weights of the dense/LSTM layer after
 * a flatten are NOT interchangeable with Keras weights without a permutation.
 *
 * Threads: everything runs on OpenMP's threads (omp_set_num_threads /
 * OMP_NUM_THREADS): the im2col/col2im/bias/element-wise loops directly, each
 * sgemm split into blocks by layer_gemm (gemm.h) with OpenBLAS set to one
 * thread, so OpenBLAS's own pthreads never compete with OpenMP's.
 */
#ifndef DSC_LAYERS_H
#define DSC_LAYERS_H

#include <stddef.h>

/* ---- Conv2D: KxK, 'same' zero padding, stride 1, bias ------------------
 * out[b,o,y,x] = bias[o] + sum_{c,i,j} w[o,c,i,j] * inp[b,c,y+i-K/2,x+j-K/2]
 * Forward is im2col + sgemm, backward sgemm + col2im (darknet's scheme);
 * 3x3 kernels with >= 16 input channels and enough output tiles run as
 * Winograd F(2x2, 3x3) instead (conv2d.c), equal to float rounding. */
typedef struct {
    int B, IC, OC, H, W; // input (B, IC, H, W), output (B, OC, H, W)
    int K;               // kernel size, odd (3 in the DSC model)
} conv2d_dims;

/* Floats of scratch conv2d_forward/conv2d_backward need. */
size_t conv2d_scratch_floats(const conv2d_dims *d);

void conv2d_forward(float *out,          // (B, OC, H, W)
                    const float *inp,    // (B, IC, H, W)
                    const float *weight, // (OC, IC, K, K)
                    const float *bias,   // (OC), may be NULL (no bias)
                    float *scratch,      // (conv2d_scratch_floats(d))
                    const conv2d_dims *d);

void conv2d_backward(float *dinp,          // (B, IC, H, W) +=, may be NULL
                     float *dweight,       // (OC, IC, K, K) +=
                     float *dbias,         // (OC) +=, may be NULL
                     const float *dout,    // (B, OC, H, W)
                     const float *inp,     // (B, IC, H, W) forward input
                     const float *weight,  // (OC, IC, K, K)
                     float *scratch,       // (conv2d_scratch_floats(d))
                     const conv2d_dims *d);

/* ---- MaxPool2D: 2x2, stride 2, Keras 'same' padding ----------------------
 * Output (B, C, OH, OW) with OH = ceil(H/2), OW = ceil(W/2); a window hanging
 * over the bottom/right edge takes the max of the cells that exist (Keras
 * 'same' pads 0 rows/cols on top/left and the odd one at bottom/right).
 * The gradient goes to the arg-max; on ties, the first cell in row-major
 * window order wins. */
typedef struct {
    int B, C, H, W; // input (B, C, H, W)
} maxpool2d_dims;

static inline int maxpool2d_out_size(int n) { return (n + 1) / 2; }

void maxpool2d_forward(float *out,       // (B, C, OH, OW)
                       int *argmax,      // (B, C, OH, OW) y*W + x of the max in its (H, W) plane
                       const float *inp, // (B, C, H, W)
                       const maxpool2d_dims *d);

void maxpool2d_backward(float *dinp,        // (B, C, H, W) +=
                        const float *dout,  // (B, C, OH, OW)
                        const int *argmax,  // (B, C, OH, OW) from maxpool2d_forward
                        const maxpool2d_dims *d);

/* ---- UpSampling2D: nearest neighbour, factor 2 ---------------------------
 * out[b,c,y,x] = inp[b,c,y/2,x/2]; backward sums the 4 gradients. */
typedef struct {
    int B, C, H, W; // input (B, C, H, W), output (B, C, 2H, 2W)
} upsample2d_dims;

void upsample2d_forward(float *out,       // (B, C, 2H, 2W)
                        const float *inp, // (B, C, H, W)
                        const upsample2d_dims *d);

void upsample2d_backward(float *dinp,       // (B, C, H, W) +=
                         const float *dout, // (B, C, 2H, 2W)
                         const upsample2d_dims *d);

/* ---- Dense: out = inp W^T + b (PyTorch Linear) --------------------------- */
typedef struct {
    int B, IN, OUT; // input (B, IN), output (B, OUT)
} dense_dims;

void dense_forward(float *out,          // (B, OUT)
                   const float *inp,    // (B, IN)
                   const float *weight, // (OUT, IN)
                   const float *bias,   // (OUT), may be NULL
                   const dense_dims *d);

void dense_backward(float *dinp,         // (B, IN) +=, may be NULL
                    float *dweight,      // (OUT, IN) +=
                    float *dbias,        // (OUT) +=, may be NULL
                    const float *dout,   // (B, OUT)
                    const float *inp,    // (B, IN)
                    const float *weight, // (OUT, IN)
                    const dense_dims *d);

/* ---- LSTM, Keras semantics ------------------------------------------------
 * Gate blocks in the order i, f, g (Keras "c"), o -- the same order in Keras
 * and PyTorch.  With x_t the input and h_{t-1} the previous hidden state,
 * masked by the dropout masks mx_k, mh_k of gate k (ones when NULL):
 *   z_k = (x_t * mx_k) Wih_k^T + (h_{t-1} * mh_k) Whh_k^T + b_k
 *   i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_g), o = sigmoid(z_o)
 *   c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t),   h_{-1} = c_{-1} = 0.
 * One bias (Keras); the PyTorch twin puts it in bias_ih and zeroes bias_hh.
 *
 * Dropout (Keras dropout / recurrent_dropout): the caller draws one mask per
 * sequence (the same for every time step) with entries 0 or 1/(1-rate) and
 * passes it; NULL means no dropout (inference).  mask_gates = 1: one mask
 * shared by the four gates, (B, IN) and (B, HID) (Keras 3 and tf.keras
 * implementation=2); mask_gates = 4: one mask per gate, (4, B, IN) and
 * (4, B, HID), gate order i, f, g, o (tf.keras implementation=1).  The same
 * masks must be passed to lstm_backward.
 *
 * Row order of the input: inp (B, S, IN), sample b's time step t at row
 * b*S + t; so a convolutional encoder run over B*S images ordered (b, t)
 * feeds the LSTM directly after a (no-op) flatten. */
typedef struct {
    int B, S, IN, HID;    // input (B, S, IN), HID units
    int return_sequences; // 1: out (B, S, HID) all hidden states; 0: out (B, HID) the last
    int mask_gates;       // 1 or 4, see above (ignored when no masks are given)
} lstm_dims;

/* Floats of the forward state saved for backward (gates, cells, hidden states). */
size_t lstm_state_floats(const lstm_dims *d);
/* Floats of scratch lstm_forward/lstm_backward need. */
size_t lstm_scratch_floats(const lstm_dims *d);

void lstm_forward(float *out,             // (B, S, HID) or (B, HID)
                  float *state,           // (lstm_state_floats(d)) saved for backward
                  const float *inp,       // (B, S, IN)
                  const float *weight_ih, // (4*HID, IN), blocks i, f, g, o
                  const float *weight_hh, // (4*HID, HID), blocks i, f, g, o
                  const float *bias,      // (4*HID), may be NULL
                  const float *mask_x,    // (mask_gates, B, IN) or NULL
                  const float *mask_h,    // (mask_gates, B, HID) or NULL
                  float *scratch,         // (lstm_scratch_floats(d))
                  const lstm_dims *d);

/* Back-propagation through time. */
void lstm_backward(float *dinp,             // (B, S, IN) +=, may be NULL
                   float *dweight_ih,       // (4*HID, IN) +=
                   float *dweight_hh,       // (4*HID, HID) +=
                   float *dbias,            // (4*HID) +=, may be NULL
                   const float *dout,       // (B, S, HID) or (B, HID)
                   const float *inp,        // (B, S, IN) forward input
                   const float *weight_ih,  // (4*HID, IN)
                   const float *weight_hh,  // (4*HID, HID)
                   const float *mask_x,     // as in forward, or NULL
                   const float *mask_h,     // as in forward, or NULL
                   const float *state,      // from lstm_forward
                   float *scratch,          // (lstm_scratch_floats(d))
                   const lstm_dims *d);

/* ---- Element-wise activations ---------------------------------------------
 * Forward may run in place (out == inp).  Backward uses the forward OUTPUT:
 * tanh' = 1 - out^2, sigmoid' = out (1 - out), identity' = 1, relu' = 1 where
 * out > 0 else 0 (0 at the kink, as PyTorch); it accumulates
 * dinp += dout * f'(out) (dinp must not alias dout).  ReLU = max(0, x) is the
 * hidden activation of the DEC autoencoder (model_dec.c). */
typedef enum { ACTIVATION_IDENTITY = 0, ACTIVATION_TANH, ACTIVATION_SIGMOID, ACTIVATION_RELU } activation_kind;

void activation_forward(float *out, const float *inp, size_t n, activation_kind a);
void activation_backward(float *dinp, const float *dout, const float *out, size_t n, activation_kind a);
/* "identity"/"linear", "tanh", "sigmoid", "relu" -> kind; returns -1 for an unknown name. */
int activation_parse(const char *name);
const char *activation_name(activation_kind a);

/* ---- Mean squared error (the reconstruction term of eq. 7) ----------------
 * loss = mean over all n = B*C*H*W elements of (yhat - y)^2 (Keras MSE: the
 * mean over elements, then over the batch, which is the same for equal-sized
 * samples; eq. 7's per-sample squared norm is C*H*W times this).  Writes (not accumulates) dyhat = 2 (yhat - y) / n when dyhat is
 * not NULL.  Sums in double. */
float mse_loss(float *dyhat,       // (n) or NULL
               const float *yhat,  // (n) reconstruction
               const float *y,     // (n) target
               size_t n);

/* ---- 1-D layers of DTC (Madiraju et al. 2018): sequences channels last ----
 * A sequence is (B, L, C): sample b's position t at row b*L + t, C values
 * per position (Keras' (steps, channels) layout and the LSTM's (B, S, IN)),
 * so a convolution, pooling and LSTMs pass their buffers on unchanged. */

/* Conv1D: kernel K (odd or even), 'same' zero padding ((K-1)/2 before, the
 * rest after, as TensorFlow and PyTorch), stride 1, bias:
 *   out[b,t,o] = bias[o] + sum_{c,k} w[o,c,k] * inp[b, t+k-(K-1)/2, c]
 * im2col + sgemm per sample (conv1d.c). */
typedef struct {
    int B, L, IC, OC; // input (B, L, IC), output (B, L, OC)
    int K;            // kernel size
} conv1d_dims;

size_t conv1d_scratch_floats(const conv1d_dims *d);

void conv1d_forward(float *out,          // (B, L, OC)
                    const float *inp,    // (B, L, IC)
                    const float *weight, // (OC, IC, K)
                    const float *bias,   // (OC), may be NULL
                    float *scratch,      // (conv1d_scratch_floats(d))
                    const conv1d_dims *d);

void conv1d_backward(float *dinp,         // (B, L, IC) +=, may be NULL
                     float *dweight,      // (OC, IC, K) +=
                     float *dbias,        // (OC) +=, may be NULL
                     const float *dout,   // (B, L, OC)
                     const float *inp,    // (B, L, IC) forward input
                     const float *weight, // (OC, IC, K)
                     float *scratch,      // (conv1d_scratch_floats(d))
                     const conv1d_dims *d);

/* MaxPool1D: window and stride P, OL = ceil(L/P), the last window shorter
 * when P does not divide L; gradient to the arg-max, first on ties. */
typedef struct {
    int B, L, C, P; // input (B, L, C), pool size P
} maxpool1d_dims;

static inline int maxpool1d_out_size(int L, int P) { return (L + P - 1) / P; }

void maxpool1d_forward(float *out,       // (B, OL, C)
                       int *argmax,      // (B, OL, C) position t in [0, L) of the max
                       const float *inp, // (B, L, C)
                       const maxpool1d_dims *d);

void maxpool1d_backward(float *dinp,       // (B, L, C) +=
                        const float *dout, // (B, OL, C)
                        const int *argmax, // from maxpool1d_forward
                        const maxpool1d_dims *d);

/* UpSampling1D: nearest neighbour by P, cut to OL <= L*P positions:
 * out[b,t,c] = inp[b, t/P, c]; backward sums the copies. */
typedef struct {
    int B, L, C, P, OL; // input (B, L, C), output (B, OL, C)
} upsample1d_dims;

void upsample1d_forward(float *out,       // (B, OL, C)
                        const float *inp, // (B, L, C)
                        const upsample1d_dims *d);

void upsample1d_backward(float *dinp,       // (B, L, C) +=
                         const float *dout, // (B, OL, C)
                         const upsample1d_dims *d);

/* Bidirectional LSTM, outputs of the two directions summed (Keras
 * Bidirectional(..., merge_mode='sum'), return_sequences): direction 0 reads
 * the sequence forward, direction 1 backward, each a Keras LSTM as above
 * without dropout; [2] arrays hold the weights of direction 0 and 1. */
typedef struct {
    int B, S, IN, HID; // input (B, S, IN), output (B, S, HID)
} bilstm_dims;

size_t bilstm_state_floats(const bilstm_dims *d);
size_t bilstm_scratch_floats(const bilstm_dims *d);

void bilstm_forward(float *out,                     // (B, S, HID)
                    float *state,                   // (bilstm_state_floats(d)) saved for backward
                    const float *inp,               // (B, S, IN)
                    const float *const weight_ih[2], // (4*HID, IN) each
                    const float *const weight_hh[2], // (4*HID, HID) each
                    const float *const bias[2],      // (4*HID) each, may be NULL
                    float *scratch,                 // (bilstm_scratch_floats(d))
                    const bilstm_dims *d);

void bilstm_backward(float *dinp,                     // (B, S, IN) +=, may be NULL
                     float *const dweight_ih[2],      // +=
                     float *const dweight_hh[2],      // +=
                     float *const dbias[2],           // +=, may be NULL
                     const float *dout,               // (B, S, HID)
                     const float *inp,                // (B, S, IN) forward input
                     const float *const weight_ih[2],
                     const float *const weight_hh[2],
                     const float *state,              // from bilstm_forward
                     float *scratch,                  // (bilstm_scratch_floats(d))
                     const bilstm_dims *d);

/* Leaky ReLU: out = x > 0 ? x : alpha x (may run in place); backward from
 * the output (alpha > 0), dinp += dout * (out > 0 ? 1 : alpha). */
void leaky_relu_forward(float *out, const float *inp, size_t n, float alpha);
void leaky_relu_backward(float *dinp, const float *dout, const float *out, size_t n, float alpha);

#endif
