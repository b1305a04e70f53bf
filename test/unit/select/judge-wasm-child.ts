// Run by judge.test.ts in a child process: the onnxruntime-web switch must happen before
// anything imports @huggingface/transformers, which the test process already did.
import { useOnnxruntimeWebInNode, usingOnnxruntimeWeb } from '../../../src/select/judge-node.ts';
import { makeTrajectory } from './fixtures.ts';

await useOnnxruntimeWebInNode();
const { loadJudge } = await import('../../../src/select/judge.ts');
const judge = await loadJudge({ model: 'hf', localModelPath: process.argv[2], mode: 'score', maxStepChars: 60 });
const t = makeTrajectory('wasm', 5);
const { scores } = await judge.scoreSteps(t);
const session = (judge.lm as any);
console.log(JSON.stringify({ web: usingOnnxruntimeWeb(), scores, id: session.id }));
