"""The samples of the binary formats, made from the digits sample (needs the
dev extra: safetensors, ml_dtypes, pyarrow, nibabel). Small on purpose: the
digits' logits in bfloat16 with their targets (.safetensors, 12 KB), the
digits table as Feather, and one 3-class NIfTI volume with its label mask."""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    import ml_dtypes
    import nibabel as nib
    import pyarrow.csv as pacsv
    import pyarrow.feather as feather
    from safetensors.numpy import save_file
    z = np.load(os.path.join(HERE, "digits.npy"))
    t = np.load(os.path.join(HERE, "digits_targets.npy"))
    save_file({"logits": z.astype(ml_dtypes.bfloat16), "targets": t},
              os.path.join(HERE, "digits_bf16.safetensors"))
    feather.write_feather(pacsv.read_csv(os.path.join(HERE, "digits.csv")),
                          os.path.join(HERE, "digits.feather"), compression="uncompressed")
    rng = np.random.default_rng(7)
    labels = np.zeros((16, 16, 6), np.uint8)
    labels[4:12, 4:12, 1:5] = 1          # an organ
    labels[6:9, 6:9, 2:4] = 2            # a lesion inside it
    evidence = np.eye(3, dtype=np.float32)[labels] * 4 + rng.normal(size=(*labels.shape, 3))
    affine = np.diag([0.9, 0.9, 3.0, 1.0])
    nib.save(nib.Nifti1Image(evidence.astype(np.float32), affine),
             os.path.join(HERE, "ct_logits.nii.gz"))
    nib.save(nib.Nifti1Image(labels, affine), os.path.join(HERE, "ct_labels.nii.gz"))


if __name__ == "__main__":
    main()
