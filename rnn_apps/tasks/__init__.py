"""One builder per kind of task (classifier, tagger, acoustic model, video model, encoder-decoder, forecaster).

Each takes an `rnn_apps.layers.encoders.EncoderConfig`, so a recurrent model becomes its CNN twin by one argument.
"""
