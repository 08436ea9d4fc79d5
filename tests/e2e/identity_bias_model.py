#!/usr/bin/python3
"""identity_bias_model.py DIR: DIR/idb.onnx, whose Add reads its bias through an Identity
and whose Mul reads a Constant node (weights an extracted repro must keep as initializers),
and DIR/x4.npy."""
import onnx, numpy as np, sys
from onnx import helper as h, numpy_helper as nh, TensorProto as T
d = sys.argv[1]
g = h.make_graph([h.make_node('Identity', ['b'], ['b_id'], name='bias_id'),
                  h.make_node('Constant', [], ['k'], name='scale', value=nh.from_array(np.full(4, 3, np.float32), 'k')),
                  h.make_node('Add', ['x', 'b_id'], ['xb'], name='add'),
                  h.make_node('Mul', ['xb', 'k'], ['y'], name='mul')], 'g',
                 [h.make_tensor_value_info('x', T.FLOAT, [1, 4])], [h.make_tensor_value_info('y', T.FLOAT, [1, 4])],
                 [nh.from_array(np.arange(4, dtype=np.float32), 'b')])
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)]); m.ir_version = 8
onnx.save(m, d + '/idb.onnx'); np.save(d + '/x4.npy', np.ones((1, 4), np.float32))
