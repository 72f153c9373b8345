/* libplinth_samples: the four samples of TensorRT's quickly deployable plugins, under the same
 * identities, as one plinth plugin library. Load it with pl_plugins_load() or --plugins. */
#include <plinth/plugin.h>

extern const pl_plugin_def sample_elemwise_add, sample_elemwise_add_inplace, sample_non_zero,
    sample_circ_pad;

PL_PLUGIN_LIBRARY(&sample_elemwise_add, &sample_elemwise_add_inplace, &sample_non_zero,
                  &sample_circ_pad)
