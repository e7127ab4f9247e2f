"""Each recipe's settings, one module per recipe, free of Keras and TensorFlow imports.

The ``rnn_apps.recipe_configs`` entry points name these classes, so
``rnn-apps run NAME`` parses and checks the flags, and answers ``--help``,
before the recipe module (and with it TensorFlow) is imported.
"""
