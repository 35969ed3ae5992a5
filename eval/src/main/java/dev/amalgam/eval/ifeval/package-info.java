/**
 * IFEval (instruction following, google-research instruction_following_eval): the 25 active
 * instruction checks with the reference's semantics, strict and loose evaluation ({@link
 * dev.amalgam.eval.ifeval.IfevalEvaluator}), the report's accuracies ({@link
 * dev.amalgam.eval.ifeval.IfevalReport}) and the jsonl readers ({@link
 * dev.amalgam.eval.ifeval.IfevalData}), with NLTK's Punkt sentence splitter and seeded langdetect
 * behind the checks that need them.
 */
package dev.amalgam.eval.ifeval;
