# --model hybrid_zoom: hybrid for an animal only a few pixels long at 96 px. The pipelines
# decode at twice hybrid's size (192 px, config new writes the Resize); the statistics see the
# frames averaged over 2×2 blocks (the 96 px they were designed at), and the CNN sees the
# square of half the short side that holds the most of the clip's foreground, at full size:
# the animal twice as large, in about as many pixels as hybrid's whole frame.
_base_ = ['./hybrid.py']
model = dict(backbone=dict(stats_pool=2, crop=0.5))
