# --model hybrid_zoom_pairs: hybrid_zoom for fast small movements. The pipelines put
# PairFrames after SampleFrames (config new writes it): each sampled frame comes with the
# video's next one, 1/fps later, and four more statistics measure the motion within those
# pairs near the animal, which the 0.16 s between sampled frames aliases (a 7 Hz leg rub seen
# at 6.25 Hz looks like a slow sweep). The per-step features are shared by a pair's two frames,
# so the step network's kernel is widened to see as far in time as hybrid's.
_base_ = ['./hybrid_zoom.py']
model = dict(backbone=dict(pairs=True), cls_head=dict(kernel_size=9))
