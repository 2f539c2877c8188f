export { useCreateGeneralChat, useCreateProjectChat, useOpenNewChat } from './api/create-chat';
export { useChat } from './api/get-chat';
export { patchChat, removeChat } from './chat-cache';
export { ChatHeader } from './components/ChatHeader';
export { ChatSidebar } from './components/ChatSidebar';
