# --model hybrid_zoom: hybrid for an animal only a few pixels long at 96 px. The pipelines
# decode at twice hybrid's size (192 px, config new writes the Resize); the statistics see the
# frames averaged over 2×2 blocks (the 96 px they were designed at), and the CNN sees, at the
# statistics' size, the smallest box of the frame's shape (down to half of it) that holds 90 %
# of the clip's foreground: an animal that stays in a small area is seen at up to twice the
# resolution, one that ranges over the frame keeps the whole frame.
_base_ = ['./hybrid.py']
model = dict(backbone=dict(stats_pool=2, zoom=0.9))
