/* model.h - load a trained emotion model (.safetensors) and classify faces.
 *
 * This is the inference contract between emotion-train (which writes the
 * files) and emotion-predict (which uses them).  The file's __metadata__
 * records the architecture, class names, input size and normalisation; the
 * caller passes raw 8-bit gray pixels and gets per-class probabilities.
 */
#ifndef VB_MODEL_H
#define VB_MODEL_H

#include <stdint.h>
#include <stdio.h>

struct vb_model;

/* Load a model from a .safetensors file; NULL with an error naming the file
 * on failure (unreadable, not safetensors, missing or mis-shaped tensors,
 * unknown architecture).  Free with vb_model_free(). */
struct vb_model *vb_model_load(const char *path);
/* Frees the model; accepts NULL. */
void vb_model_free(struct vb_model *m);

/* Number of classes and the name of class i (owned by the model). */
int vb_model_nclasses(const struct vb_model *m);
const char *vb_model_class_name(const struct vb_model *m, int i);
/* Input height and width (e.g. 48 x 48); input is one gray channel. */
void vb_model_input_size(const struct vb_model *m, int *h, int *w);

/* Classify n faces: px holds n images of h*w raw gray pixels (0..255), row
 * major; probs receives n * nclasses softmax probabilities.  Normalisation
 * is applied as the metadata says.  Inference mode (running BN statistics,
 * no dropout) on the frozen network (vb_net_freeze: batch norms folded,
 * Winograd convolutions); single-threaded, so it can be called from one
 * thread per model.  Pass all of a frame's faces in one call: the dense
 * layers then read their weights once for all of them.  A face scores the
 * same whatever else is in the call.  0 or -1. */
int vb_model_predict(struct vb_model *m, const uint8_t *px, int n, float *probs);

/* ---- for emotion-train (and anyone needing more than the above) -------- */

struct vb_net;

/* A metadata value of the file ("architecture", "classes", "data_sha256",
 * ...), or NULL; owned by the model. */
const char *vb_model_meta(const struct vb_model *m, const char *key);

/* Load a model file into a network ready for training or evaluation
 * (running statistics and weights as saved).  The class names come back in
 * *classes (a NULL-terminated array the caller frees with
 * vb_model_free_classes) if classes is not NULL.  NULL with an error naming
 * the file on failure. */
struct vb_net *vb_model_load_net(const char *path, char ***classes);
void vb_model_free_classes(char **classes);

/* Write net as a model file: its tensors under PyTorch's names, and in
 * __metadata__ the architecture YAML, the class names (a JSON array), the
 * input shape, the normalisation, and the extra key/value pairs given
 * (provenance).  0 or -1. */
int vb_model_save(const struct vb_net *net, const char *const *classes, int nclasses,
                  const char *const *key, const char *const *val, int nextra, FILE *f);

#endif
