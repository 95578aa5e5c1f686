import en from './en.json';
import zhCN from './zh-CN.json';

/**
 * The messages of each language, as JSON (a test in plugins/ui checks that both have every key,
 * and that no Chinese text is still the English one unless same-as-english.json says so).
 */
export type MessageKey = keyof typeof en;
export const MESSAGES: Record<'en' | 'zh-CN', Partial<Record<MessageKey, string>>> = { en, 'zh-CN': zhCN };
export { en };
